extension ProvStore {
    /// The backend under the store, for `StoreMigration`: copying a whole database is the one
    /// task that works below the domain rules (ids and tables carried over as they are).
    package var storageEngine: any StorageEngine { engine }
}

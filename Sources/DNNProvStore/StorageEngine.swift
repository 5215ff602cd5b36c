import DNNProvModel

/// The per-backend half of the store: connections, transactions, the catalog as committed, the
/// live feed and user queries. `ProvStore` writes the domain rules (what a batch means, the life
/// of executions and tasks, row shaping, idempotency, summaries, listings, PROV) once, on top of
/// this; SQLite (`SQLiteEngine`, GRDB) and PostgreSQL (`PostgresEngine`, PostgresNIO) implement it.
package protocol StorageEngine: Sendable {
    /// The database as people name it (a file path, or a URL without its password).
    var location: String { get }
    /// `sqlite` or `postgresql`.
    var backend: String { get }
    var dialect: any SQLDialect { get }
    /// Each commit's live events, for the live stream.
    var feed: ChangeFeed { get }
    /// The catalog as of the last commit this process knows of.
    var catalog: Catalog { get }
    /// Runs `body` on a reader against the last committed state.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) throws -> T) async throws -> T
    /// Runs `work` in the group commit: returns once the transaction holding it has committed.
    func write<T: Sendable>(_ work: @escaping (any SQLDatabase, WriterState) throws -> T) async throws -> T
    /// One read-only user query, the backend's rules enforcing it.
    func query(_ sql: String, options: QueryOptions) async throws -> QueryResult
    /// Finishes the writes already submitted, then stops writing.
    func close()
    /// Reloads the catalog when another server changed it; whether it changed.
    func refreshCatalog() async throws -> Bool
}


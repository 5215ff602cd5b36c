import DNNProvModel

/// What group commit needs of a backend: one transaction per group of jobs, one savepoint per
/// job, and a place for what the group leaves behind (the live event numbers and events).
package protocol WriteTransactions: AnyObject, Sendable {
    /// Runs `body` in one write transaction, committed when it returns and rolled back when it
    /// throws. Before `body`, the backend brings `state` up to date with what others committed
    /// since its last transaction (PostgreSQL: another server on the same database).
    func transaction(_ state: WriterState, _ body: (any SQLDatabase) throws -> Void) throws
    /// Runs `body` in a savepoint of the current transaction, rolled back to when it throws.
    func savepoint(_ db: any SQLDatabase, _ body: () throws -> Void) throws
    /// Stores, in the group's transaction, the last event number (`state.seq`) and whatever the
    /// backend needs to hand `events` to other servers.
    func finish(_ db: any SQLDatabase, _ state: WriterState, events: [LiveEvent]) throws
    /// The catalog as stored (after a failed commit).
    func loadCatalog() throws -> Catalog
}

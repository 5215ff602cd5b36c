import DNNProvModel
import GRDB

/// Group commit on SQLite: `BEGIN IMMEDIATE` on the pool's writer connection, a savepoint per
/// job, and the last event number in `live_seq`. One process writes a SQLite file, so nobody
/// else's commits need catching up with.
final class SQLiteTransactions: WriteTransactions, @unchecked Sendable {
    let pool: DatabasePool

    init(pool: DatabasePool) { self.pool = pool }

    func transaction(_ state: WriterState, _ body: (any SQLDatabase) throws -> Void) throws {
        try pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                try body(GRDBConnection(db))
                return .commit
            }
        }
    }

    func savepoint(_ db: any SQLDatabase, _ body: () throws -> Void) throws {
        // Only ever called with the connection `transaction` made.
        try (db as! GRDBConnection).db.inSavepoint {
            try body()
            return .commit
        }
    }

    func finish(_ db: any SQLDatabase, _ state: WriterState, events: [LiveEvent]) throws {
        guard state.seq > state.storedSeq else { return }
        try db.execute(sql: "INSERT INTO live_seq(id, seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq",
                       arguments: [state.seq])
    }

    func loadCatalog() throws -> Catalog {
        try pool.read { try Catalog.load(GRDBConnection($0)) }
    }
}

import DNNProvModel
import Foundation
import GRDB
import Logging

/// The embedded backend: a SQLite file in WAL mode (one writer, concurrent readers), written
/// through group commit; user queries run on a pool of hardened connections of their own.
final class SQLiteEngine: StorageEngine {
    let path: String
    let pool: DatabasePool
    /// User queries run here, apart from `pool`, which serves listings and health.
    let queries: QueryEngine
    private let writer: GroupCommit?
    private let published: LockedValue<Catalog>
    let feed: ChangeFeed
    let dialect: any SQLDialect = SQLiteDialect()
    var location: String { path }
    var backend: String { "sqlite" }

    /// Opens (creating when needed) the file at `path`. `readOnly` opens an existing file for
    /// queries only: no migration, no writer.
    init(path: String, readOnly: Bool, queryPool: QueryPoolConfiguration, logger: Logger) throws {
        self.path = path
        if readOnly && !FileManager.default.fileExists(atPath: path) {
            throw ProvError.notFound("no database file at \(path)")
        }
        var config = Configuration()
        config.readonly = readOnly
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            // FULL: an acknowledged commit survives a power cut, not only a crash. Group commit
            // keeps the fsync cost per request small.
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA synchronous = FULL") }
        }
        pool = try DatabasePool(path: path, configuration: config)
        if !readOnly { try GlobalSchema.migrator().migrate(pool) }
        queries = QueryEngine(path: path, configuration: queryPool)
        let catalog = try pool.read { try Catalog.load(GRDBConnection($0)) }
        published = LockedValue(catalog)
        // A read-only file written before the live stream existed has no live_seq.
        let lastSeq: Int64 = ((try? pool.read { try Int64.fetchOne($0, sql: "SELECT seq FROM live_seq WHERE id = 1") }) ?? nil) ?? 0
        feed = ChangeFeed(lastSeq: lastSeq)
        logger.info("opened database", metadata: [
            "path": "\(path)", "readOnly": "\(readOnly)", "dataflows": "\(catalog.dataflows.count)"])
        if readOnly {
            writer = nil
        } else {
            let published = self.published
            let state = WriterState(catalog: catalog)
            state.seq = lastSeq
            state.storedSeq = lastSeq
            state.hasLegacyKeys = try pool.read { try Bool.fetchOne($0, sql: "SELECT EXISTS (SELECT 1 FROM ingest_key)") ?? false }
            writer = GroupCommit(transactions: SQLiteTransactions(pool: pool), state: state, feed: feed, logger: logger) { published.set($0) }
        }
    }

    deinit {
        // The writer thread must not outlive the queue it waits on.
        writer?.stop()
    }

    var catalog: Catalog { published.get() }

    func close() { writer?.stop() }

    /// One process writes a SQLite file: its catalog is always the stored one.
    func refreshCatalog() async throws -> Bool { false }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) throws -> T) async throws -> T {
        try await pool.read { try body(GRDBConnection($0)) }
    }

    func write<T: Sendable>(_ work: @escaping (any SQLDatabase, WriterState) throws -> T) async throws -> T {
        guard let writer else { throw ProvError.forbidden("the database was opened read-only") }
        return try await writer.submit(work)
    }
}

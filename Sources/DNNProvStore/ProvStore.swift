import DNNProvModel
import Foundation
import GRDB
import Logging

/// The provenance store on an embedded SQLite file (WAL: one writer, concurrent readers).
///
/// Writes (registrations, task events) go through group commit and return after the commit;
/// reads run on the reader pool against the last committed state.
public final class ProvStore: Sendable {
    public let path: String
    let pool: DatabasePool
    /// User queries run here, apart from `pool`, which serves listings and health.
    let queries: QueryEngine
    private let writer: GroupCommit?
    private let published: LockedValue<Catalog>
    /// Each commit's live events (runs, rows, specification changes), for the live stream.
    public let feed: ChangeFeed
    let logger: Logger

    /// Opens (creating when needed) the store at `path`. `readOnly` opens an existing file
    /// for queries only: no migration, no writer.
    public init(path: String, readOnly: Bool = false, queryPool: QueryPoolConfiguration = .init(),
                logger: Logger = Logger(label: "dnnprov.store")) throws {
        self.path = path
        self.logger = logger
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
        let catalog = try pool.read(Catalog.load)
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
            writer = GroupCommit(pool: pool, state: state, feed: feed, logger: logger) { published.set($0) }
        }
    }

    /// Finishes the writes already submitted, then closes the writer.
    public func close() {
        writer?.stop()
    }

    deinit {
        // The writer thread must not outlive the queue it waits on.
        writer?.stop()
    }

    /// The catalog as of the last commit.
    var catalog: Catalog { published.get() }

    func write<T: Sendable>(_ work: @escaping (Database, WriterState) throws -> T) async throws -> T {
        guard let writer else { throw ProvError.forbidden("the database was opened read-only") }
        return try await writer.submit(work)
    }

    // MARK: writing

    /// Registers a dataflow, or extends it in place. `fromDfAnalyzer`: an old client posting its
    /// specification starts a new run, which matters for clients that name no execution.
    public func register(_ spec: DataflowSpec, fromDfAnalyzer: Bool = false) async throws -> RegistrationResult {
        try await write { db, state in
            let result = try Registration(db: db, state: state).register(spec)
            if result.changed { state.statements.removeAll() }
            if fromDfAnalyzer { state.newInferredExecutionPending.insert(result.id) }
            if result.changed {
                state.events.append(LiveEvent(seq: state.nextSeq(), dataflowID: result.id, kind: .dataflow,
                                              data: "{\"version\":\(result.version)}"))
            }
            return result
        }
    }

    /// Stores task events, all or nothing. `tagIndexes`: errors name the index of the bad event.
    public func ingest(_ events: [TaskEvent], options: IngestOptions = .strict, tagIndexes: Bool = true) async throws -> IngestResult {
        try await write { db, state in
            try Ingestion(db: db, state: state, options: options).ingest(events, tagIndexes: tagIndexes)
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(body)
    }
}

/// A value behind a lock, for state the writer publishes and readers take snapshots of.
final class LockedValue<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
}

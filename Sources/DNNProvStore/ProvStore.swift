import DNNProvModel
import Foundation
import Logging

/// The provenance store: the domain rules (registration, ingestion, summaries, listings, PROV)
/// over a backend (`StorageEngine`): an embedded SQLite file by default, or PostgreSQL for
/// several servers on one database.
///
/// Writes (registrations, task events) go through group commit and return after the commit;
/// reads run against the last committed state.
public final class ProvStore: Sendable {
    let engine: any StorageEngine
    let logger: Logger

    /// The database as people name it: a file path, or a URL without its password.
    public var location: String { engine.location }
    /// The backend: `sqlite` or `postgresql`.
    public var backend: String { engine.backend }
    /// Each commit's live events (runs, rows, specification changes), for the live stream.
    public var feed: ChangeFeed { engine.feed }
    var dialect: any SQLDialect { engine.dialect }

    /// A store on `engine` (the PostgreSQL backend makes one).
    package init(engine: any StorageEngine, logger: Logger) {
        self.engine = engine
        self.logger = logger
    }

    /// Opens (creating when needed) the SQLite store at `path`. `readOnly` opens an existing file
    /// for queries only: no migration, no writer.
    public convenience init(path: String, readOnly: Bool = false, queryPool: QueryPoolConfiguration = .init(),
                            logger: Logger = Logger(label: "dnnprov.store")) throws {
        self.init(engine: try SQLiteEngine(path: path, readOnly: readOnly, queryPool: queryPool, logger: logger), logger: logger)
    }

    /// Finishes the writes already submitted, then closes the writer.
    public func close() {
        engine.close()
    }

    /// The catalog as of the last commit.
    var catalog: Catalog { engine.catalog }

    /// Reloads the catalog when another server on the same database changed it (PostgreSQL);
    /// whether it changed.
    public func refreshCatalog() async throws -> Bool { try await engine.refreshCatalog() }

    func write<T: Sendable>(_ work: @escaping (any SQLDatabase, WriterState) throws -> T) async throws -> T {
        try await engine.write(work)
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

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) throws -> T) async throws -> T {
        try await engine.read(body)
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

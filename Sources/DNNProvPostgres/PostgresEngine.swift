import DNNProvModel
import DNNProvStore
import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// The PostgreSQL backend: global tables in schema `dnnprov`, one schema per dataflow holding its
/// `ds_<set>` tables and `<set>` views. Several servers may share one database: writes take turns
/// (`PostgresTransactions`), and every server hears the others' commits through LISTEN/NOTIFY,
/// so its live stream and catalog show what any server stored.
final class PostgresEngine: StorageEngine, @unchecked Sendable {
    /// The NOTIFY channel of commits.
    static let channel = "dnnprov_live"

    let url: PostgresURL
    let dialect: any SQLDialect = PostgresDialect()
    let feed: ChangeFeed
    var location: String { url.redacted }
    var backend: String { "postgresql" }
    private let published: NIOLockedValueBox<Catalog>
    private let writer: GroupCommit?
    private let transactions: PostgresTransactions?
    private let readers: PostgresReaderPool
    private let queries: PostgresQueryEngine
    private let followers = PostgresFollowers()
    private let listener: Task<Void, Never>?
    private let logger: Logger

    /// Connects, brings the schema up to date (under an advisory lock: servers starting together
    /// do not race), and starts the writer and the listener. `queryURL`: user queries go there
    /// (a read replica), so analysts cannot slow ingestion.
    init(url: PostgresURL, queryURL: PostgresURL?, readOnly: Bool, queryPool: QueryPoolConfiguration, logger: Logger) throws {
        self.url = url
        self.logger = logger
        // The writer's connection (setting the schema up first), with threads of its own.
        let setup = try PGConnection.connect(url: url, logger: logger, idleInTransactionTimeout: PostgresTransactions.idleTimeout,
                                             executor: PGBlockingExecutor(threads: 1, name: "dnnprov-pg-writer"))
        if !readOnly { try PostgresSchema.migrate(setup) }
        let catalog = try Catalog.load(setup)
        let lastSeq = try Int64.fetchOne(setup, sql: "SELECT seq FROM store_state WHERE id = 1") ?? 0
        published = NIOLockedValueBox(catalog)
        feed = ChangeFeed(lastSeq: lastSeq)
        readers = PostgresReaderPool(url: url, logger: logger)
        queries = try PostgresQueryEngine(url: queryURL ?? url, configuration: queryPool, logger: logger)
        logger.info("opened database", metadata: [
            "url": "\(url.redacted)", "readOnly": "\(readOnly)", "dataflows": "\(catalog.dataflows.count)"])
        if readOnly {
            setup.close()
            setup.executor.shutdown()
            writer = nil
            transactions = nil
        } else {
            let state = WriterState(catalog: catalog)
            state.hasLegacyKeys = false
            let published = self.published
            let transactions = PostgresTransactions(connection: setup, feed: feed, followers: followers)
            self.transactions = transactions
            writer = GroupCommit(transactions: transactions, state: state, feed: feed, logger: logger) { catalog in
                published.withLockedValue { if catalog.stamp >= $0.stamp { $0 = catalog } }
            }
        }
        let readers = self.readers
        let followers = self.followers
        feed.setFollowHandler { dataflow in
            followers.follow(dataflow) { sql, arguments in
                Task.detached { _ = try? await readers.write(sql, arguments) }
            }
        }
        listener = Task.detached { [feed, published, readers, url, logger] in
            await Self.listen(url: url, feed: feed, published: published, readers: readers, logger: logger)
        }
    }

    deinit {
        writer?.stop()
        transactions?.close()
        listener?.cancel()
    }

    var catalog: Catalog { published.withLockedValue { $0 } }

    func close() {
        writer?.stop()
        transactions?.close()
        listener?.cancel()
        queries.shutdown()
        readers.close()
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) throws -> T) async throws -> T {
        try await readers.read(body)
    }

    func write<T: Sendable>(_ work: @escaping (any SQLDatabase, WriterState) throws -> T) async throws -> T {
        guard let writer else { throw ProvError.forbidden("the database was opened read-only") }
        return try await writer.submit(work)
    }

    func query(_ sql: String, options: QueryOptions) async throws -> QueryResult {
        // A dataflow another server registered a moment ago: this server may not have heard yet.
        if let tag = options.dataflow, let normalized = try? Identifier.normalizeDataflow(tag), self.catalog.dataflows[normalized] == nil {
            _ = try await refreshCatalog()
        }
        let catalog = self.catalog
        // The same name rules as on SQLite: the chosen dataflow, or the only one, or the one
        // holding the set names the query uses.
        let names = try QueryNameResolution(sql: sql, dataflow: options.dataflow, scope: options.scope, catalog: catalog)
        let schema = names.dataflow.map { PostgresDialect().schemaName(dataflow: $0) }
        var scopeSchemas: [String]?
        var scopeTags: [String] = []
        if case .only(let tags) = options.scope {
            scopeSchemas = catalog.dataflows.keys.filter { options.scope.contains($0) }.sorted().map { PostgresDialect().schemaName(dataflow: $0) }
            scopeTags = tags.sorted()
        }
        do {
            return try await queries.run(sql, dataflowSchema: schema, scopeSchemas: scopeSchemas, scopeTags: scopeTags, limit: options.limit,
                                         maxBytes: options.maxBytes, timeout: options.timeout)
        } catch let error as ProvError {
            // `relation "x" does not exist`: said with the way to reach x, as on SQLite.
            guard let start = error.message.range(of: "relation \""),
                  let end = error.message[start.upperBound...].firstIndex(of: "\""),
                  error.message[end...].hasPrefix("\" does not exist") else { throw error }
            throw names.explained(error, missing: String(error.message[start.upperBound..<end]))
        }
    }

    func refreshCatalog() async throws -> Bool {
        let stamp = catalog.stamp
        let fresh = try await readers.read { db -> Catalog? in
            let stored = try Int64.fetchOne(db, sql: "SELECT catalog_stamp FROM store_state WHERE id = 1") ?? 0
            return stored > stamp ? try Catalog.load(db) : nil
        }
        guard let fresh else { return false }
        // The listener may have published it meanwhile: what counts is that it is newer now.
        return published.withLockedValue { current in
            if fresh.stamp > current.stamp { current = fresh }
            return current.stamp > stamp
        }
    }

    /// A `live_event` row as the feed carries it.
    static func event(_ row: SQLRow) -> LiveEvent? {
        guard let kind = LiveEvent.Kind(rawValue: row[2]) else { return nil }
        return LiveEvent(seq: row[0], dataflowID: row[1], kind: kind, data: row[3])
    }

    /// Follows the commits of every server: on each notification, publishes the events not yet
    /// published here and, when the catalog changed, the catalog. Reconnects after a failure.
    private static func listen(url: PostgresURL, feed: ChangeFeed, published: NIOLockedValueBox<Catalog>,
                               readers: PostgresReaderPool, logger: Logger) async {
        while !Task.isCancelled {
            do {
                var configuration = try url.configuration()
                configuration.options.additionalStartupParameters += PGConnection.startupParameters()
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
                do {
                    try await connection.listen(on: channel) { notifications in
                        // Commits made while (re)connecting.
                        try await catchUp(feed: feed, published: published, readers: readers)
                        for try await notification in notifications {
                            if let (seq, stamp) = committed(notification.payload), seq <= feed.lastSeq,
                               stamp <= published.withLockedValue({ $0.stamp }) { continue }
                            try await catchUp(feed: feed, published: published, readers: readers)
                        }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                logger.warning("live listener: \(error); reconnecting")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// The last event and the catalog stamp a commit left, from its notification's payload
    /// (`"<seq> <stamp>"`); nil for another payload (an older server's empty one).
    static func committed(_ payload: String) -> (seq: Int64, stamp: Int)? {
        let parts = payload.split(separator: " ")
        guard parts.count == 2, let seq = Int64(parts[0]), let stamp = Int(parts[1]) else { return nil }
        return (seq, stamp)
    }

    private static func catchUp(feed: ChangeFeed, published: NIOLockedValueBox<Catalog>, readers: PostgresReaderPool) async throws {
        let last = feed.lastSeq
        let stamp = published.withLockedValue { $0.stamp }
        let (missed, catalog) = try await readers.read(urgent: true) { db -> (Missed, Catalog?) in
            guard let state = try db.fetchOne(sql: "SELECT catalog_stamp, seq FROM store_state WHERE id = 1") else { return (Missed(), nil) }
            let storedStamp: Int64 = state[0]
            let catalog = storedStamp > stamp ? try Catalog.load(db) : nil
            return (try missedEvents(after: last, upTo: state[1], db), catalog)
        }
        // The catalog first: a page told of a new dataflow can then read it.
        if let catalog { published.withLockedValue { if catalog.stamp > $0.stamp { $0 = catalog } } }
        missed.publish(to: feed)
    }

    /// Events other servers stored that this one has not published yet.
    struct Missed: Sendable {
        /// Events up to this one were deleted from `live_event` before this server read them.
        var lostUpTo: Int64?
        var events: [LiveEvent] = []

        func publish(to feed: ChangeFeed) {
            if let lostUpTo { feed.lost(upTo: lostUpTo) }
            feed.publish(events)
        }
    }

    /// The events after `last` when `seq` is the last one stored. Writers keep the last
    /// `PostgresTransactions.keptEvents` of them: a server further behind (its listener cut off
    /// a while) has lost the older ones, and its followers must reload.
    static func missedEvents(after last: Int64, upTo seq: Int64, _ db: any SQLDatabase) throws -> Missed {
        guard seq > last else { return Missed() }
        var missed = Missed()
        var from = last
        if seq - last > PostgresTransactions.keptEvents {
            from = seq - PostgresTransactions.keptEvents
            missed.lostUpTo = from
        }
        let rows = try db.fetchAll(sql: "SELECT seq, df_id, kind, data FROM live_event WHERE seq > ? ORDER BY seq", arguments: [from])
        missed.events = rows.compactMap(event)
        return missed
    }

    /// Publishes what the writer's connection shows others stored (before the writer's group).
    static func catchUp(_ feed: ChangeFeed, upTo seq: Int64, _ db: any SQLDatabase) throws {
        try missedEvents(after: feed.lastSeq, upTo: seq, db).publish(to: feed)
    }
}

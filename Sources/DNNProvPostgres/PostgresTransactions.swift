import DNNProvModel
import DNNProvStore
import Foundation

/// Group commit on PostgreSQL, with several servers on one database.
///
/// Writers take turns: each group's transaction first locks the one row of `store_state`
/// (`SELECT ... FOR UPDATE`), so the groups of all servers are serialized; roles that can only
/// read cannot take that lock. That keeps what the domain rules assume true: row
/// ids (`max(id) + 1`), task and execution lookups, summaries and event numbers are never handed
/// out twice, and two servers extending one dataflow never race on its schema. Group commit
/// keeps the turns few (hundreds of requests per transaction).
///
/// `store_state` holds a counter bumped by every group: when it is not the one this server left,
/// another server wrote in between, and the writer's caches (tasks, executions, next row ids,
/// summaries) are dropped, the catalog reloaded if it changed, and the events that server made
/// published here first, so this server's live stream stays in order.
final class PostgresTransactions: WriteTransactions, @unchecked Sendable {
    /// Events kept in `live_event` for servers that catch up (a multiple of a feed's capacity).
    static let keptEvents: Int64 = 16_384
    /// How long PostgreSQL lets the writer's session sit idle inside a transaction before
    /// ending it: a server frozen while it holds the writers' turn gives the turn up.
    static let idleTimeout: Duration = .seconds(60)

    /// The writer's connection; replaced when it is lost (a PostgreSQL restart, a network cut).
    private(set) var connection: PGConnection
    let feed: ChangeFeed
    let followers: PostgresFollowers
    /// The counter this server left in `store_state` (nil: unknown, reload everything).
    private var epoch: Int64?
    private var catalogStamp: Int64 = -1
    private var groupStart: (epoch: Int64, stamp: Int64)?

    init(connection: PGConnection, feed: ChangeFeed, followers: PostgresFollowers) {
        self.connection = connection
        self.feed = feed
        self.followers = followers
    }

    func transaction(_ state: WriterState, _ body: (any SQLDatabase) throws -> Void) throws {
        // READ COMMITTED whatever the database's default: the state row is read after the lock is
        // granted, so it shows the previous writer's commit.
        try connection.simple("BEGIN ISOLATION LEVEL READ COMMITTED")
        do {
            // The writers' turn is the lock on the state row: roles that can only read (user
            // queries, BI tools) cannot take it, unlike an advisory lock anyone may take.
            guard let row = try connection.fetchOne(sql: "SELECT epoch, seq, catalog_stamp FROM store_state WHERE id = 1 FOR UPDATE") else {
                throw ProvStoreError.storage("store_state is empty")
            }
            let (stored, seq, stamp): (Int64, Int64, Int64) = (row[0], row[1], row[2])
            if stored != epoch {
                // Another server wrote in between (or this one does not know what it left).
                if epoch == nil { state.forgetCaches() } else { state.forgetWhatOthersMayChange() }
                if stamp != catalogStamp || epoch == nil { state.catalog = try Catalog.load(connection) }
                state.seq = seq
                state.storedSeq = seq
                // The events the others made, published before this group's own.
                try PostgresEngine.catchUp(feed, upTo: seq, connection)
            }
            groupStart = (stored, stamp)
            state.liveDataflows.formUnion(try followers.followed(connection))
            try body(connection)
            try connection.simple("COMMIT")
            epoch = stored + 1
            catalogStamp = Int64(state.catalog.stamp)
        } catch {
            connection.discardPending()
            if (try? connection.simple("ROLLBACK")) == nil { reconnect() }
            epoch = nil
            throw error
        }
    }

    /// A connection that cannot even roll back is gone: the next group gets a new one (this
    /// group's jobs fail; their clients retry). If PostgreSQL is still unreachable, the next
    /// group fails the same way and tries again.
    private func reconnect() {
        let old = connection
        old.close()
        if let fresh = try? old.reopened() { connection = fresh }
    }

    /// Closes the writer's connection and ends its threads (after the group commit has stopped).
    func close() {
        connection.close()
        connection.executor.shutdown()
    }

    func savepoint(_ db: any SQLDatabase, _ body: () throws -> Void) throws {
        try connection.simple("SAVEPOINT job")
        do {
            try body()
            try connection.flush()
            try connection.simple("RELEASE SAVEPOINT job")
        } catch {
            connection.discardPending()
            try connection.simple("ROLLBACK TO SAVEPOINT job")
            try connection.simple("RELEASE SAVEPOINT job")
            throw error
        }
    }

    func finish(_ db: any SQLDatabase, _ state: WriterState, events: [LiveEvent]) throws {
        try advanceSequences(state)
        let start = groupStart ?? (0, 0)
        try connection.execute(sql: "UPDATE store_state SET epoch = ?, seq = ?, catalog_stamp = ? WHERE id = 1",
                               arguments: [start.epoch + 1, state.seq, Int64(state.catalog.stamp)])
        guard !events.isEmpty else { return }
        let insert = try connection.rowInserter(table: "live_event", columns: ["seq", "df_id", "kind", "data"])
        for e in events { try insert.insert([.integer(e.seq), .integer(e.dataflowID), .text(e.kind.rawValue), .text(e.data)]) }
        try connection.execute(sql: "DELETE FROM live_event WHERE seq <= ?", arguments: [state.seq - Self.keptEvents])
        // Delivered at commit, to every server listening. The payload says what the commit
        // leaves (last event, catalog stamp): a server that has both already, this one mostly,
        // reads nothing.
        try connection.execute(sql: "NOTIFY \(PostgresEngine.channel), '\(state.seq) \(state.catalog.stamp)'", arguments: [])
    }

    /// The last id of each table whose identity sequence was moved to it.
    private var advanced: [String: Int64] = [:]

    /// Moves the identity sequences of executions and tasks past the ids this writer assigned
    /// (`WriterState.nextID`), so that an insert taking the column's default (a manual one, an
    /// older server) does not collide with them.
    private func advanceSequences(_ state: WriterState) throws {
        var calls: [String] = []
        for table in [WriterState.executionTable, WriterState.taskTable] {
            guard let next = state.nextIDs[table], advanced[table] != next - 1 else { continue }
            calls.append("setval(pg_get_serial_sequence('dnnprov.\(table)', 'id'), \(max(1, next - 1)))")
            advanced[table] = next - 1
        }
        guard !calls.isEmpty else { return }
        try connection.execute(sql: "SELECT " + calls.joined(separator: ", "), arguments: [])
    }

    func loadCatalog() throws -> Catalog {
        epoch = nil
        return try Catalog.load(connection)
    }
}

import DNNProvModel
import DNNProvStore
import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// The PostgreSQL side of `SQLDatabase`: one PostgresNIO connection, driven synchronously from
/// the writer's (or a reader's) thread, never from an event loop.
///
/// Statements whose results are not read are deferred: `execute` appends them to a queue
/// (arguments inlined as literals), and the queue goes to the server in one round trip before
/// the next statement that reads, before `simple` (transaction control) and on `flush`.
/// Ingestion then costs a round trip per read, not per statement.
///
/// Rows from `rowInserter` are gathered per table and sent with `COPY ... FROM STDIN`, which
/// the server takes about five times faster than the same rows as a multi-row `INSERT`. They
/// stay open across other statements until one names their table (a read of it, an `UPDATE` of
/// it), a transaction-control statement, `flush`, or their size limit: the statements of the
/// writer that do not name a table do not read it, so rows may be sent after them. A job's
/// dataset rows and idempotency keys then go as one `COPY` each, not one `INSERT` per run.
///
/// PostgresNIO 1.x has no simple-query protocol (its `simpleQuery` is an extended-protocol
/// query, one statement only), so a buffer of several statements is sent as one anonymous
/// PL/pgSQL block (`DO $tag$ BEGIN ...; ...; END $tag$`): one message, one round trip, the
/// statements run in order, and the first failure stops the rest.
///
/// One thread uses a connection at a time (the writer, or a reader holding it from a pool);
/// pools hand it between threads, hence `@unchecked Sendable`.
package final class PGConnection: SQLDatabase, @unchecked Sendable {
    /// The PostgresNIO connection, for what this class does not wrap (LISTEN).
    package let connection: PostgresConnection
    package let url: PostgresURL
    package let logger: Logger
    package let dialect: any SQLDialect = PostgresDialect()
    /// Where this connection's async calls run (see `PGBlockingExecutor`).
    let executor: PGBlockingExecutor
    /// The session's `idle_in_transaction_session_timeout`; nil: the server's.
    let idleInTransactionTimeout: Duration?

    /// Bytes of one `COPY` and of everything buffered before it is sent: the server and this
    /// process do not hold megabytes of batch per connection.
    package static let maxCopyBytes = 1 << 20
    /// Rows of a table sent as an `INSERT` in the statements' block rather than by `COPY`: a
    /// `COPY` costs two round trips of its own, more than a few rows cost to parse.
    static let rowsWithoutCopy = 32
    package static let autoFlushBytes = 8 << 20

    /// Rows of one table and column list, gathered for one `COPY`.
    private struct OpenRows {
        /// The table and columns as `rowInserter` was given them, joined: which rows belong here.
        let key: String
        let table: String
        let columns: [String]
        /// The table's name without its schema: a statement holding it is sent after the rows.
        let name: String
        var body: [UInt8] = []
        var rows = 0
        /// The rows as given while they are few (`rowsWithoutCopy`); nil past that.
        var values: [[SQLValue]]? = []
    }

    /// What goes to the server next, in order: statements (consecutive ones as one block) and
    /// rows closed by a statement that names their table.
    private enum Pending {
        case statement(String)
        case rows(OpenRows)
    }

    private var queue: [Pending] = []
    /// Rows still taking more, one entry per table: rows of different tables interleave (a
    /// dataset row, its event's idempotency key, ...) and may be reordered among themselves.
    private var openRows: [OpenRows] = []
    /// Bytes in `queue` and `openRows`.
    private var bufferedBytes = 0
    private var closed = false

    private static let nextID = NIOLockedValueBox(0)

    init(connection: PostgresConnection, url: PostgresURL, logger: Logger, executor: PGBlockingExecutor, idleInTransactionTimeout: Duration?) {
        self.connection = connection
        self.url = url
        self.logger = logger
        self.executor = executor
        self.idleInTransactionTimeout = idleInTransactionTimeout
    }

    deinit {
        // PostgresNIO asserts that a connection is closed before it goes away, so wait for the
        // close. Connections are only used (and so released) off the event loops.
        if !closed { try? connection.close().wait() }
    }

    // MARK: Connecting

    /// Opens a connection (blocking) with `standard_conforming_strings = on` (literals are
    /// written for it) and `search_path = dnnprov` (the global tables).
    ///
    /// `idleInTransactionTimeout` is for the writer: a server that stops answering in the
    /// middle of a transaction must not keep the writers' turn (the lock on `store_state`) from
    /// the other servers, so PostgreSQL ends its session when it stays idle inside a
    /// transaction that long (ours are idle between statements for milliseconds). Readers keep
    /// the server's setting: a PROV export waits on its HTTP client between parts.
    package static func connect(url: PostgresURL, logger: Logger = Logger(label: "dnnprov.postgres"),
                                idleInTransactionTimeout: Duration? = nil) throws -> PGConnection {
        try connect(url: url, logger: logger, idleInTransactionTimeout: idleInTransactionTimeout, executor: .shared)
    }

    /// A connection like this one (the writer's, reconnecting after it was lost).
    func reopened() throws -> PGConnection {
        try Self.connect(url: url, logger: logger, idleInTransactionTimeout: idleInTransactionTimeout, executor: executor)
    }

    /// Session settings sent as startup parameters: no round trip, and no call to `set_config`,
    /// which the query engine's hardening revokes from roles other than superusers. TCP
    /// keepalives let PostgreSQL notice a client whose machine went away (in about a minute,
    /// instead of the system's two hours) and end its transaction.
    static func startupParameters(idleInTransactionTimeout: Duration? = nil) -> [(String, String)] {
        var parameters = [("standard_conforming_strings", "on"), ("search_path", "dnnprov"),
                          ("tcp_keepalives_idle", "30"), ("tcp_keepalives_interval", "10"), ("tcp_keepalives_count", "3")]
        if let idleInTransactionTimeout {
            parameters.append(("idle_in_transaction_session_timeout", String(max(1, Int(idleInTransactionTimeout.milliseconds)))))
        }
        return parameters
    }

    static func connect(url: PostgresURL, logger: Logger, idleInTransactionTimeout: Duration?, executor: PGBlockingExecutor) throws -> PGConnection {
        var configuration = try url.configuration()
        configuration.options.additionalStartupParameters += startupParameters(idleInTransactionTimeout: idleInTransactionTimeout)
        let id = nextID.withLockedValue { $0 += 1; return $0 }
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection.connect(
                on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration, id: id, logger: logger
            ).wait()
        } catch {
            throw connectError(error, url: url)
        }
        let db = PGConnection(connection: connection, url: url, logger: logger, executor: executor,
                              idleInTransactionTimeout: idleInTransactionTimeout)
        return db
    }

    /// Closes the connection; statements still buffered are dropped (a transaction not
    /// committed is rolled back by the server anyway).
    package func close() {
        guard !closed else { return }
        closed = true
        discardPending()
        try? connection.close().wait()
    }

    // MARK: SQLDatabase

    package func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        let text = arguments.isEmpty ? sql : try PGSQLText.inline(sql, arguments).text
        // Statements that cannot run inside a PL/pgSQL block (transaction control, those that
        // return rows, those that refuse a transaction) are sent at once, after what they may
        // depend on.
        if Self.mustRunDirectly(sql) {
            if Self.readsOnlyWhatItNames(sql) { try sendQueue(before: text) } else { try flush() }
            try run(text)
            return
        }
        closeRows(namedIn: text)
        append(text)
        if bufferedBytes >= Self.autoFlushBytes { try flush() }
    }

    package func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Bool) throws {
        if Self.readsOnlyWhatItNames(sql) { try sendQueue(before: sql) } else { try flush() }
        let text = arguments.isEmpty ? sql : try PGSQLText.numbered(sql, arguments: arguments.count).text
        var binds = PostgresBindings(capacity: arguments.count)
        for a in arguments {
            switch a {
            case .null: binds.appendNull()
            case .integer(let i): binds.append(i)
            case .real(let d): binds.append(d)
            case .text(let s):
                if s.utf8.contains(0) { throw PGSQLText.nulRefused }
                binds.append(s)
            case .blob(let b): binds.append(ByteBuffer(bytes: b))
            }
        }
        let query = PostgresQuery(unsafeSQL: text, binds: binds)
        // Rows come in batches through the async row sequence: memory stays bounded by a batch
        // (PostgresNIO applies back-pressure to the socket), so exporting millions of rows streams.
        try drainActiveReads()
        let pump = RowPump()
        let connection = self.connection, logger = self.logger
        activeReads.append(pump)
        defer {
            // Dropping the iterator cancels the stream: PostgresNIO reads and discards the rest.
            pump.stop()
            activeReads.removeAll { $0 === pump }
        }
        var batch = try blocking { try await pump.start(connection, query, logger) }
        while !batch.isEmpty {
            for row in batch {
                guard try body(row) else { return }
            }
            guard pump.hasMore else { break }
            batch = try blocking { try await pump.next() }
        }
    }

    /// Reads still streaming when `body` of `forEachRow` sends another statement (GRDB allows
    /// a query inside a cursor's loop; one PostgreSQL connection runs one at a time, and the
    /// second would wait forever behind the first): their remaining rows are read into memory
    /// first, and their loops go on from there.
    private var activeReads: [RowPump] = []

    private func drainActiveReads() throws {
        for pump in activeReads where pump.isStreaming {
            try blocking { try await pump.drain() }
        }
    }

    /// Rows for `table`, sent after the statements already queued and before the next
    /// statement that names the table's physical name (`dnnprov_data.<df>__ds_<set>`, a global
    /// table's name). So a statement that reads those rows must name that table: not a view of
    /// it (`<df>.ds_<set>`), a function or a foreign key pointing into it. The writer's own
    /// statements do; none of the tables filled this way is referenced by a foreign key.
    package func rowInserter(table: String, columns: [String]) throws -> any SQLRowInserter {
        let names = columns.map(Self.unquoted)
        // PostgresNIO quotes COPY's names without escaping them; ours never hold a quote.
        guard !(names + [table]).contains(where: { $0.contains("\"") }) else {
            throw ProvStoreError.storage("a name holding a double quote cannot be copied into: \(table) \(columns)")
        }
        return Inserter(connection: self, table: table, columns: names)
    }

    /// `name` from `"name"` (as `quotedIdentifier` writes it), a bare name as it is.
    static func unquoted(_ identifier: String) -> String {
        guard identifier.count >= 2, identifier.hasPrefix("\""), identifier.hasSuffix("\"") else { return identifier }
        return String(identifier.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
    }

    // MARK: Buffer

    /// Sends everything buffered and empties the buffer (also when it fails: the failed
    /// statements are not sent again after a rollback).
    package func flush() throws {
        for rows in openRows where rows.rows > 0 { queue.append(.rows(rows)) }
        openRows = []
        try sendQueue()
    }

    /// Flushes, then runs `sql` on its own (`BEGIN`, `COMMIT`, `SAVEPOINT s`, `SET ...`).
    package func simple(_ sql: String) throws {
        try flush()
        try run(sql)
    }

    /// Drops what is buffered, unsent: before `ROLLBACK` (or `ROLLBACK TO SAVEPOINT`) after a
    /// failure, when it belongs to the work being undone.
    package func discardPending() {
        queue = []
        openRows = []
        bufferedBytes = 0
    }

    /// Round trips waiting to be made (a block of statements counts once per statement, rows
    /// of a table once), for tests.
    var pendingStatementCount: Int { queue.count + openRows.filter { $0.rows > 0 }.count }

    /// Whether statements or rows are waiting to be sent.
    package var hasPendingStatements: Bool { !queue.isEmpty || openRows.contains { $0.rows > 0 } }

    /// Sends what `sql` may depend on: the queued statements, and the open rows of the tables
    /// it names. Rows of other tables stay open.
    private func sendQueue(before sql: String) throws {
        closeRows(namedIn: sql)
        try sendQueue()
    }

    /// Moves the open rows of the tables `sql` names to the queue, ahead of `sql`. A name found
    /// anywhere in the text counts (in a literal or as part of a longer name too): sending rows
    /// early costs a round trip, sending them late would be wrong.
    private func closeRows(namedIn sql: String) {
        guard !openRows.isEmpty else { return }
        var kept: [OpenRows] = []
        for rows in openRows where rows.rows > 0 {
            if sql.range(of: rows.name, options: .caseInsensitive) != nil {
                queue.append(.rows(rows))
            } else {
                kept.append(rows)
            }
        }
        openRows = kept
    }

    /// Sends the queue in order: consecutive statements as one block, rows as a `COPY`.
    private func sendQueue() throws {
        guard !queue.isEmpty else { return }
        let batch = queue
        queue = []
        bufferedBytes = openRows.reduce(0) { $0 + $1.body.count }
        var statements: [String] = []
        for item in batch {
            switch item {
            case .statement(let text):
                statements.append(text)
            case .rows(let rows):
                if let values = rows.values {
                    statements.append(try insertStatement(rows, values))
                } else {
                    try runStatements(statements)
                    statements = []
                    try copy(rows)
                }
            }
        }
        try runStatements(statements)
    }

    private func runStatements(_ statements: [String]) throws {
        guard !statements.isEmpty else { return }
        if statements.count == 1, !PGSQLText.scan(statements[0], { _, _ in }).hasInnerSemicolon {
            try run(statements[0])
        } else {
            try run(Self.block(statements))
        }
    }

    fileprivate func appendRow(key: String, table: String, columns: [String], values: [SQLValue]) throws {
        var k = openRows.firstIndex { $0.key == key }
        if let i = k, openRows[i].body.count >= Self.maxCopyBytes {
            queue.append(.rows(openRows.remove(at: i)))
            k = nil
        }
        if k == nil {
            openRows.append(OpenRows(key: key, table: table, columns: columns, name: PostgresDialect.split(table).name))
            k = openRows.count - 1
        }
        let i = k!
        var body = openRows[i].body
        openRows[i].body = []  // keeps `body` uniquely referenced while it grows
        let start = body.count
        do {
            try PGCopyText.appendRow(values, to: &body)
        } catch {
            // A refused value leaves the rows before it buffered and this one out.
            body.removeSubrange(start...)
            openRows[i].body = body
            throw error
        }
        bufferedBytes += body.count - start
        openRows[i].body = body
        openRows[i].rows += 1
        if openRows[i].rows > Self.rowsWithoutCopy { openRows[i].values = nil } else { openRows[i].values?.append(values) }
        if bufferedBytes >= Self.autoFlushBytes { try flush() }
    }

    private func append(_ statement: String) {
        // A trailing `;` would make an empty statement inside the block.
        var s = Substring(statement)
        while let last = s.last, last == ";" || last.isWhitespace { s.removeLast() }
        guard !s.isEmpty else { return }
        queue.append(.statement(String(s)))
        bufferedBytes += s.utf8.count
    }

    /// Several statements as one PL/pgSQL block. `use_column`: a column named like a PL/pgSQL
    /// variable (`found`) is the column. Statements are separated by a line of their own, so a
    /// statement ending in a `--` comment does not swallow the separator.
    static func block(_ statements: [String]) -> String {
        let body = statements.joined(separator: "\n;\n")
        var tag = "$dnnprov_batch$"
        var n = 0
        while body.contains(tag) { n += 1; tag = "$dnnprov_batch\(n)$" }
        return "DO \(tag)\n#variable_conflict use_column\nBEGIN\n\(body)\n;\nEND \(tag)"
    }

    /// Whether a statement reads no table it does not name (so rows of other tables may wait):
    /// reads and `... RETURNING`, and session settings. Others (`CALL`, `EXECUTE`, cursors,
    /// transaction control) are sent after everything buffered.
    static func readsOnlyWhatItNames(_ sql: String) -> Bool {
        switch PGSQLText.firstKeyword(sql) {
        case "SELECT", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN", "INSERT", "UPDATE", "DELETE", "SET", "RESET": return true
        default: return false
        }
    }

    static func mustRunDirectly(_ sql: String) -> Bool {
        switch PGSQLText.firstKeyword(sql) {
        case "SELECT", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN", "BEGIN", "START", "COMMIT", "END", "ROLLBACK",
             "ABORT", "SAVEPOINT", "RELEASE", "PREPARE", "EXECUTE", "DEALLOCATE", "LISTEN", "UNLISTEN", "VACUUM", "ANALYZE",
             "COPY", "CALL", "SET", "RESET", "DISCARD", "FETCH", "MOVE", "CLOSE", "DECLARE":
            return true
        case "CREATE", "DROP", "ALTER", "REINDEX":
            // These refuse a transaction block (and so a PL/pgSQL one).
            let words = sql.prefix(200).uppercased().split(whereSeparator: { $0.isWhitespace }).prefix(4).joined(separator: " ")
            return ["CREATE DATABASE", "DROP DATABASE", "ALTER SYSTEM", "CREATE TABLESPACE", "DROP TABLESPACE",
                    "CREATE INDEX CONCURRENTLY", "CREATE UNIQUE INDEX CONCURRENTLY", "DROP INDEX CONCURRENTLY", "REINDEX"]
                .contains { words.hasPrefix($0) }
        default:
            // `INSERT ... RETURNING` in PL/pgSQL wants an INTO.
            return sql.range(of: "RETURNING", options: .caseInsensitive) != nil
        }
    }

    /// A few rows as one multi-row `INSERT`, for the statements' block.
    private func insertStatement(_ rows: OpenRows, _ values: [[SQLValue]]) throws -> String {
        var text = Array("INSERT INTO \(dialect.tableSQL(rows.table)) (\(rows.columns.map(\.quotedIdentifier).joined(separator: ", "))) VALUES ".utf8)
        for (r, row) in values.enumerated() {
            text.append(contentsOf: (r == 0 ? "(" : ", (").utf8)
            for (i, v) in row.enumerated() {
                if i > 0 { text.append(contentsOf: ", ".utf8) }
                try PGSQLText.appendLiteral(v, to: &text)
            }
            text.append(UInt8(ascii: ")"))
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Rows into their table with `COPY ... FROM STDIN` (text format).
    private func copy(_ rows: OpenRows) throws {
        guard !closed else { throw ProvStoreError.closed }
        try drainActiveReads()
        // PostgresNIO writes `COPY "<table>"`: a schema goes in as `schema"."name`.
        let (schema, name) = PostgresDialect.split(rows.table)
        let target = schema.map { "\($0)\".\"\(name)" } ?? name
        let data = ByteBuffer(bytes: rows.body)
        let connection = self.connection, logger = self.logger, columns = rows.columns
        try blocking {
            try await connection.copyFrom(table: target, columns: columns, logger: logger) { writer in
                try await writer.write(data)
            }
        }
    }

    /// One statement over the extended protocol; its rows, if any, are dropped.
    private func run(_ sql: String) throws {
        guard !closed else { throw ProvStoreError.closed }
        try checkOpen()
        try drainActiveReads()
        do {
            _ = try connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).wait()
        } catch {
            throw mapError(error)
        }
    }

    /// Whether statements can still be sent (neither side has closed the connection).
    var isOpen: Bool { !closed && !connection.isClosed }

    /// Fails when PostgreSQL has closed the connection (a session it ended, a restart):
    /// PostgresNIO 1.33 would queue the next statement on it and never answer.
    private func checkOpen() throws {
        if connection.isClosed {
            throw ProvStoreError.storage("lost the connection to PostgreSQL at \(url.host):\(url.port) (the server closed it)")
        }
    }

    // MARK: Errors

    /// A PostgresNIO error as the store reports it: the server's message and SQLSTATE
    /// (`String(reflecting:)` of a `PSQLError` hides them), a timeout as `ProvError.timeout`.
    package func mapError(_ error: any Error) -> any Error {
        Self.mapError(error, url: url)
    }

    package static func mapError(_ error: any Error, url: PostgresURL) -> any Error {
        if error is ProvError || error is ProvStoreError { return error }
        guard let e = error as? PSQLError else { return ProvStoreError.storage("PostgreSQL at \(url.host):\(url.port): \(error)") }
        if let info = e.serverInfo {
            let state = info[.sqlState] ?? "?????"
            let message = info[.message] ?? "unknown server error"
            if state == "57014" {
                return ProvError(.timeout, "the statement ran past its time limit: \(message)")
            }
            var text = "\(message) (SQLSTATE \(state))"
            if let detail = info[.detail] { text += ": \(detail)" }
            return ProvStoreError.storage(text)
        }
        switch e.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown:
            return ProvStoreError.storage("lost the connection to PostgreSQL at \(url.host):\(url.port) (\(e.code)\(e.underlying.map { ": \($0)" } ?? ""))")
        case .queryCancelled:
            return ProvError(.timeout, "the statement was cancelled")
        default:
            return ProvStoreError.storage("PostgreSQL client error (\(e.code))\(e.underlying.map { ": \($0)" } ?? "")")
        }
    }

    static func connectError(_ error: any Error, url: PostgresURL) -> any Error {
        if error is ProvError || error is ProvStoreError { return error }
        let at = "cannot connect to PostgreSQL at \(url.host):\(url.port)"
        if let e = error as? PSQLError {
            if let info = e.serverInfo {
                let state = info[.sqlState] ?? "?????"
                return ProvStoreError.storage("\(at) as \(url.user), database \(url.database): \(info[.message] ?? "refused") (SQLSTATE \(state))")
            }
            if let underlying = e.underlying { return ProvStoreError.storage("\(at): \(underlying)") }
            return ProvStoreError.storage("\(at): \(e.code)")
        }
        return ProvStoreError.storage("\(at): \(error)")
    }

    /// The SQLSTATE of an error from this connection (`23505`: a unique violation), if any.
    package static func sqlState(of error: any Error) -> String? {
        guard case .storage(let m) = error as? ProvStoreError, let r = m.range(of: "(SQLSTATE ") else { return nil }
        let code = m[r.upperBound...].prefix(5)
        return code.count == 5 ? String(code) : nil
    }

    // MARK: Bridging

    /// Runs async work from this synchronous thread and waits for it. Callers are never on an
    /// event loop or in the concurrency pool, so blocking here parks only the caller; the work
    /// runs on threads of its own, not queued behind the server's tasks.
    private func blocking<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws -> T {
        try checkOpen()
        let result = NIOLockedValueBox<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: executor) {
            let r: Result<T, any Error>
            do { r = .success(try await operation()) } catch { r = .failure(error) }
            result.withLockedValue { $0 = r }
            done.signal()
        }
        done.wait()
        do {
            return try result.withLockedValue { $0! }.get()
        } catch {
            throw mapError(error)
        }
    }

    /// Pulls rows from a query's async sequence a batch at a time. Only one task touches it at a
    /// time (the caller waits for each), hence `@unchecked Sendable`.
    private final class RowPump: @unchecked Sendable {
        static let batchSize = 512
        private var iterator: PostgresRowSequence.AsyncIterator?
        private var columns: [String]?
        /// Rows read ahead by `drain`, handed out by the next `next`.
        private var buffered: [SQLRow] = []

        var isStreaming: Bool { iterator != nil }
        var hasMore: Bool { iterator != nil || !buffered.isEmpty }

        func start(_ connection: PostgresConnection, _ query: PostgresQuery, _ logger: Logger) async throws -> [SQLRow] {
            let sequence = try await connection.query(query, logger: logger)
            iterator = sequence.makeAsyncIterator()
            return try await next()
        }

        func next() async throws -> [SQLRow] {
            if !buffered.isEmpty {
                defer { buffered = [] }
                return buffered
            }
            return try await read(limit: Self.batchSize)
        }

        /// Reads every remaining row into `buffered`.
        func drain() async throws {
            buffered += try await read(limit: .max)
        }

        private func read(limit: Int) async throws -> [SQLRow] {
            guard var it = iterator else { return [] }
            var rows: [SQLRow] = []
            rows.reserveCapacity(min(limit, Self.batchSize))
            while rows.count < limit {
                guard let row = try await it.next() else {
                    iterator = nil
                    return rows
                }
                if columns == nil { columns = row.map(\.columnName) }
                rows.append(SQLRow(columns: columns!, values: try row.map(PGValues.value)))
            }
            iterator = it
            return rows
        }

        func stop() {
            iterator = nil
            buffered = []
        }
    }

    /// Adds rows to the connection's buffer, gathered per table for one `COPY`.
    private final class Inserter: SQLRowInserter {
        unowned let connection: PGConnection
        let key: String
        let table: String
        let columns: [String]
        init(connection: PGConnection, table: String, columns: [String]) {
            self.connection = connection
            self.table = table
            self.columns = columns
            key = table + "(" + columns.joined(separator: ",") + ")"
        }
        func insert(_ values: [SQLValue]) throws {
            try connection.appendRow(key: key, table: table, columns: columns, values: values)
        }
    }
}

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
/// Statements whose results are not read are deferred: `execute` and `rowInserter` append to a
/// buffer (arguments inlined as literals, consecutive rows of a table merged into one multi-row
/// `INSERT`), and the buffer goes to the server in one round trip before the next statement
/// that reads, before `simple` (transaction control) and on `flush`. Ingestion then costs a round
/// trip per read, not per statement.
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

    /// Rows of one multi-row `INSERT` and bytes of one buffer before they are sent: a statement
    /// of 1 MB parses fast, and the server does not hold megabytes of batch text per connection.
    package static let maxRowsPerInsert = 1_000
    package static let maxInsertBytes = 1 << 20
    package static let autoFlushBytes = 8 << 20

    private var statements: [String] = []
    private var bufferedBytes = 0
    /// The multi-row `INSERT` being built: its `INSERT INTO t (cols) VALUES ` head and rows.
    /// Multi-row `INSERT`s being built, one per table (`INSERT INTO t (cols) VALUES ` head): rows
    /// of different tables interleave (a dataset row, its event's idempotency key, ...), and
    /// inserts into different tables may be reordered among themselves. Any other statement
    /// sends them first.
    private var openInserts: [(head: String, body: [UInt8], rows: Int)] = []
    private var closed = false

    private static let nextID = NIOLockedValueBox(0)

    init(connection: PostgresConnection, url: PostgresURL, logger: Logger) {
        self.connection = connection
        self.url = url
        self.logger = logger
    }

    deinit {
        // PostgresNIO asserts that a connection is closed before it goes away, so wait for the
        // close. Connections are only used (and so released) off the event loops.
        if !closed { try? connection.close().wait() }
    }

    // MARK: Connecting

    /// Opens a connection (blocking) with `standard_conforming_strings = on` (literals are
    /// written for it) and `search_path = dnnprov` (the global tables).
    package static func connect(url: PostgresURL, logger: Logger = Logger(label: "dnnprov.postgres")) throws -> PGConnection {
        var configuration = try url.configuration()
        // Session settings as startup parameters: no round trip, and no call to `set_config`,
        // which the query engine's hardening revokes from roles other than superusers.
        configuration.options.additionalStartupParameters += [("standard_conforming_strings", "on"), ("search_path", "dnnprov")]
        let id = nextID.withLockedValue { $0 += 1; return $0 }
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection.connect(
                on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration, id: id, logger: logger
            ).wait()
        } catch {
            throw connectError(error, url: url)
        }
        let db = PGConnection(connection: connection, url: url, logger: logger)
        return db
    }

    /// Closes the connection; statements still buffered are dropped (a transaction not
    /// committed is rolled back by the server anyway).
    package func close() {
        guard !closed else { return }
        closed = true
        statements = []
        openInserts = []
        try? connection.close().wait()
    }

    // MARK: SQLDatabase

    package func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        // Statements that cannot run inside a PL/pgSQL block (transaction control, those that
        // return rows, those that refuse a transaction) are sent at once, after what is buffered.
        if Self.mustRunDirectly(sql) {
            let text = arguments.isEmpty ? sql : try PGSQLText.inline(sql, arguments).text
            try flush()
            try run(text)
            return
        }
        let text = arguments.isEmpty ? sql : try PGSQLText.inline(sql, arguments).text
        closeInserts()
        append(text)
        if bufferedBytes >= Self.autoFlushBytes { try flush() }
    }

    package func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Bool) throws {
        try flush()
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

    package func rowInserter(table: String, columns: [String]) throws -> any SQLRowInserter {
        Inserter(connection: self, head: "INSERT INTO \(dialect.tableSQL(table)) (\(columns.joined(separator: ", "))) VALUES ")
    }

    // MARK: Buffer

    /// Sends what is buffered in one round trip and empties the buffer (also when it fails:
    /// the failed statements are not sent again after a rollback).
    package func flush() throws {
        closeInserts()
        guard !statements.isEmpty else { return }
        let batch = statements
        statements = []
        bufferedBytes = 0
        if batch.count == 1, !PGSQLText.scan(batch[0], { _, _ in }).hasInnerSemicolon {
            try run(batch[0])
        } else {
            try run(Self.block(batch))
        }
    }

    /// Flushes, then runs `sql` on its own (`BEGIN`, `COMMIT`, `SAVEPOINT s`, `SET ...`).
    package func simple(_ sql: String) throws {
        try flush()
        try run(sql)
    }

    /// Drops the buffered statements unsent: before `ROLLBACK` (or `ROLLBACK TO SAVEPOINT`)
    /// after a failure, when what was buffered belongs to the work being undone.
    package func discardPending() {
        statements = []
        bufferedBytes = 0
        openInserts = []
    }

    /// Statements waiting to be sent (a multi-row `INSERT` counts once), for tests.
    var pendingStatementCount: Int { statements.count + openInserts.filter { $0.rows > 0 }.count }

    /// Whether statements are waiting to be sent.
    package var hasPendingStatements: Bool { !statements.isEmpty || !openInserts.isEmpty }

    fileprivate func appendRow(head: String, values: [SQLValue]) throws {
        var k = openInserts.firstIndex { $0.head == head }
        if let i = k, openInserts[i].rows >= Self.maxRowsPerInsert || openInserts[i].body.count >= Self.maxInsertBytes {
            let full = openInserts.remove(at: i)
            append(full.head + String(decoding: full.body, as: UTF8.self))
            k = nil
        }
        if k == nil {
            openInserts.append((head, [], 0))
            k = openInserts.count - 1
        }
        let i = k!
        var body = openInserts[i].body
        openInserts[i].body = []  // keeps `body` uniquely referenced while it grows
        if !body.isEmpty { body.append(UInt8(ascii: ",")) }
        body.append(UInt8(ascii: "("))
        let start = body.count
        do {
            for (i, v) in values.enumerated() {
                if i > 0 { body.append(contentsOf: ", ".utf8) }
                try PGSQLText.appendLiteral(v, to: &body)
            }
        } catch {
            // A refused value leaves the rows before it buffered and this one out.
            body.removeSubrange((start - (openInserts[i].rows > 0 ? 2 : 1))...)
            openInserts[i].body = body
            throw error
        }
        body.append(UInt8(ascii: ")"))
        let size = body.count
        openInserts[i].body = body
        openInserts[i].rows += 1
        if bufferedBytes + size >= Self.autoFlushBytes { try flush() }
    }

    private func closeInserts() {
        let open = openInserts
        openInserts = []
        for insert in open where insert.rows > 0 { append(insert.head + String(decoding: insert.body, as: UTF8.self)) }
    }

    private func append(_ statement: String) {
        // A trailing `;` would make an empty statement inside the block.
        var s = Substring(statement)
        while let last = s.last, last == ";" || last.isWhitespace { s.removeLast() }
        guard !s.isEmpty else { return }
        statements.append(String(s))
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

    /// One statement over the extended protocol; its rows, if any, are dropped.
    private func run(_ sql: String) throws {
        guard !closed else { throw ProvStoreError.closed }
        try drainActiveReads()
        do {
            _ = try connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).wait()
        } catch {
            throw mapError(error)
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
    /// event loop or in the concurrency pool, so blocking here parks only the caller.
    private func blocking<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws -> T {
        let result = NIOLockedValueBox<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
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

    /// Adds rows to the connection's buffer; consecutive rows become one multi-row `INSERT`.
    private final class Inserter: SQLRowInserter {
        unowned let connection: PGConnection
        let head: String
        init(connection: PGConnection, head: String) {
            self.connection = connection
            self.head = head
        }
        func insert(_ values: [SQLValue]) throws { try connection.appendRow(head: head, values: values) }
    }
}

import DNNProvModel
import Foundation
import GRDBSQLite
import NIOConcurrencyHelpers

/// Runs user queries on a pool of hardened connections of their own (`QueryConnection`), apart
/// from the reader pool that serves listings, health and the live views: slow queries can fill
/// this pool, never the other. At most `workers` queries run at once; `maxWaiting` more may
/// wait for a connection; past that the answer is 429.
final class QueryEngine: Sendable {
    private struct State {
        var idle: [QueryConnection] = []
        var opened = 0
        var waiting: [CheckedContinuation<QueryConnection, any Error>] = []
    }

    let path: String
    let configuration: QueryPoolConfiguration
    private let state = NIOLockedValueBox(State())

    init(path: String, configuration: QueryPoolConfiguration) {
        self.path = path
        self.configuration = configuration
    }

    /// Runs `plan` within `deadline`, stopping at `limit` rows or `maxBytes` of values.
    func run(_ plan: QueryPlan, limit: Int, maxBytes: Int, deadline: ContinuousClock.Instant) async throws -> QueryResult {
        let connection = try await acquire()
        defer { release(connection) }
        return try await withCheckedThrowingContinuation { cont in
            // A thread of its own: the query blocks it for as long as it runs. Not Dispatch's
            // global queue: on Linux it is as wide as the machine and Swift's tasks run on it,
            // so two slow queries on two cores would stop every request.
            let thread = Thread {
                cont.resume(with: Result { try Self.execute(plan, on: connection, limit: limit, maxBytes: maxBytes, deadline: deadline) })
            }
            thread.name = "dnnprov-query"
            thread.start()
        }
    }

    private func acquire() async throws -> QueryConnection {
        enum Next { case take(QueryConnection), open, wait, refuse }
        let next: Next = state.withLockedValue { s in
            if let c = s.idle.popLast() { return .take(c) }
            if s.opened < configuration.workers {
                s.opened += 1
                return .open
            }
            return s.waiting.count < configuration.maxWaiting ? .wait : .refuse
        }
        switch next {
        case .take(let c):
            return c
        case .open:
            do {
                return try QueryConnection(path: path, maxValueBytes: configuration.maxValueBytes)
            } catch {
                state.withLockedValue { $0.opened -= 1 }
                throw error
            }
        case .refuse:
            throw ProvError.tooManyRequests("\(configuration.workers) queries are running and \(configuration.maxWaiting) waiting; try again shortly")
        case .wait:
            return try await withCheckedThrowingContinuation { cont in
                let ready: QueryConnection? = state.withLockedValue { s in
                    // Released between the check above and now.
                    if let c = s.idle.popLast() { return c }
                    s.waiting.append(cont)
                    return nil
                }
                if let ready { cont.resume(returning: ready) }
            }
        }
    }

    private func release(_ connection: QueryConnection) {
        let waiter: CheckedContinuation<QueryConnection, any Error>? = state.withLockedValue { s in
            if s.waiting.isEmpty {
                s.idle.append(connection)
                return nil
            }
            return s.waiting.removeFirst()
        }
        waiter?.resume(returning: connection)
    }

    private static func execute(_ plan: QueryPlan, on c: QueryConnection, limit: Int, maxBytes: Int,
                                deadline: ContinuousClock.Instant) throws -> QueryResult {
        // Dropped whatever happens, so that the pooled connection holds no view of this query.
        defer {
            for v in plan.views { try? c.execute("DROP VIEW IF EXISTS temp.\(v.name.quotedIdentifier)") }
        }
        for v in plan.views {
            try c.execute("CREATE TEMP VIEW \(v.name.quotedIdentifier) AS \(v.select)")
        }
        let stmt = try c.prepare(plan.sql, policy: plan.policy, deadline: deadline)
        defer { sqlite3_finalize(stmt) }
        guard sqlite3_stmt_readonly(stmt) != 0 else {
            throw ProvError.forbidden("only read-only queries are allowed; this statement would change the database")
        }
        let n = Int(sqlite3_column_count(stmt))
        let names = (0..<n).map { i in sqlite3_column_name(stmt, Int32(i)).map { String(cString: $0) } ?? "" }
        var rows: [[QueryValue]] = []
        var bytes = 0
        var stop: QueryResult.Limit?
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw c.error(rc) }
            if rows.count == limit {
                stop = .rows
                break
            }
            var row: [QueryValue] = []
            row.reserveCapacity(n)
            for i in 0..<Int32(n) {
                let value = Self.value(stmt, i)
                bytes += value.encodedSize
                row.append(value)
            }
            if bytes > maxBytes {
                stop = .bytes
                break
            }
            rows.append(row)
            if ContinuousClock.now >= deadline { throw ProvError(.timeout, "the query ran past its time limit and was stopped") }
        }
        let columns = names.enumerated().map { (i, name) in
            QueryResult.Column(name: name, type: rows.lazy.map { $0[i] }.first { $0 != .null }?.typeName ?? "NULL")
        }
        return QueryResult(columns: columns, rows: rows, truncated: stop != nil, elapsedMs: 0, limit: stop)
    }

    private static func value(_ stmt: OpaquePointer, _ i: Int32) -> QueryValue {
        switch sqlite3_column_type(stmt, i) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(stmt, i))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(stmt, i))
        case SQLITE_TEXT:
            guard let p = sqlite3_column_text(stmt, i) else { return .text("") }
            let count = Int(sqlite3_column_bytes(stmt, i))
            return .text(String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(stmt, i))
            guard count > 0, let p = sqlite3_column_blob(stmt, i) else { return .blob(Data()) }
            return .blob(Data(bytes: p, count: count))
        default:
            return .null
        }
    }
}

extension QueryValue {
    /// About how many bytes the value takes in a JSON answer: what the byte budget counts.
    var encodedSize: Int {
        switch self {
        case .null: return 5
        case .integer, .real: return 24
        case .text(let s): return s.utf8.count + 3
        case .blob(let b): return b.count * 4 / 3 + 4
        }
    }
}

@testable import DNNProvPostgres
import DNNProvModel
import DNNProvStore
import Foundation
import Logging
import XCTest

/// The PostgreSQL connection, dialect and global schema. Tests that need a server run when
/// `DNNPROV_TEST_POSTGRES_URL` names one (a superuser, e.g. `postgresql://dnnprov@127.0.0.1:55432/postgres`);
/// each creates its own database and drops it afterwards.
final class PGConnectionTests: XCTestCase {
    private var admin: PGConnection?
    private var databases: [String] = []
    private var connections: [PGConnection] = []

    private func serverURL() throws -> PostgresURL {
        guard let s = ProcessInfo.processInfo.environment["DNNPROV_TEST_POSTGRES_URL"], !s.isEmpty else {
            throw XCTSkip("set DNNPROV_TEST_POSTGRES_URL to run the PostgreSQL tests")
        }
        return try PostgresURL(s)
    }

    /// A fresh database and its URL.
    private func makeDatabase() throws -> PostgresURL {
        var url = try serverURL()
        if admin == nil { admin = try PGConnection.connect(url: url) }
        let name = "dnnprov_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try admin!.simple("CREATE DATABASE \(name)")
        databases.append(name)
        url.database = name
        return url
    }

    private func connect(_ url: PostgresURL) throws -> PGConnection {
        let c = try PGConnection.connect(url: url)
        connections.append(c)
        return c
    }

    /// A connection to a fresh database with the (empty) `dnnprov` schema its search path names.
    private func makeConnection() throws -> PGConnection {
        let c = try connect(makeDatabase())
        try c.simple("CREATE SCHEMA IF NOT EXISTS dnnprov")
        return c
    }

    override func tearDown() {
        for c in connections { c.close() }
        connections = []
        for name in databases { try? admin?.simple("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        databases = []
        admin?.close()
        admin = nil
        super.tearDown()
    }

    // MARK: URL

    func testURLParsing() throws {
        let u = try PostgresURL("postgresql://alice:s3cr%40t@db.example:6543/prov?sslmode=disable&application_name=dnnprov")
        XCTAssertEqual(u.host, "db.example")
        XCTAssertEqual(u.port, 6543)
        XCTAssertEqual(u.user, "alice")
        XCTAssertEqual(u.password, "s3cr@t")
        XCTAssertEqual(u.database, "prov")
        XCTAssertEqual(u.applicationName, "dnnprov")
        XCTAssertFalse(u.redacted.contains("s3cr"))
        XCTAssertEqual(u.redacted, "postgresql://alice:***@db.example:6543/prov?application_name=dnnprov")

        let d = try PostgresURL("postgres://bob@localhost/x")
        XCTAssertEqual(d.port, 5432)
        XCTAssertNil(d.password)
        XCTAssertEqual(d.sslMode, .disable)
        XCTAssertTrue(try PostgresURL("postgresql://u@h/d?sslmode=require").configuration().tls.isEnforced)
        XCTAssertTrue(try PostgresURL("postgresql://u@h/d?sslmode=verify-full").configuration().tls.isEnforced)
        XCTAssertEqual(try PostgresURL("postgresql://u@h/d?sslmode=verify-full").redacted, "postgresql://u@h:5432/d?sslmode=verify-full")
        XCTAssertFalse(try PostgresURL("postgresql://u@h/d?sslmode=prefer").configuration().tls.isEnforced)
        XCTAssertFalse(try PostgresURL("postgresql://u@h/d").configuration().tls.isAllowed)

        func refusal(_ s: String) -> String {
            do { _ = try PostgresURL(s); return "accepted" } catch { return error.message }
        }
        XCTAssertTrue(refusal("postgresql://u:hunter2@h").contains("no database"))
        XCTAssertFalse(refusal("postgresql://u:hunter2@h").contains("hunter2"))
        XCTAssertTrue(refusal("postgresql://h/db").contains("no user"))
        XCTAssertTrue(refusal("postgresql://u:hunter2@h/d?sslmode=sometimes").contains("sslmode"))
        XCTAssertTrue(refusal("postgresql://u@h/d?color=blue").contains("color"))
        XCTAssertTrue(refusal("mysql://u@h/d").contains("postgresql://"))
        XCTAssertTrue(refusal("postgresql://u@h:99999/d").contains("port") || refusal("postgresql://u@h:99999/d").contains("malformed"))
    }

    // MARK: Statement text

    func testPlaceholdersSkipQuotedTextAndComments() throws {
        let sql = "SELECT '?''?', \"a?\", ? -- ?\n, $$?$$, $t$ ? $t$, E'\\'?', /* ? */ ?"
        let inlined = try PGSQLText.inline(sql, [.integer(1), .text("x")])
        XCTAssertEqual(inlined.text, "SELECT '?''?', \"a?\", 1 -- ?\n, $$?$$, $t$ ? $t$, E'\\'?', /* ? */ 'x'")
        XCTAssertEqual(try PGSQLText.numbered(sql, arguments: 2).text,
                       "SELECT '?''?', \"a?\", $1 -- ?\n, $$?$$, $t$ ? $t$, E'\\'?', /* ? */ $2")
        XCTAssertThrowsError(try PGSQLText.inline("SELECT ?, ?", [.integer(1)]))
        XCTAssertFalse(PGSQLText.scan("INSERT INTO t VALUES (';');", { _, _ in }).hasInnerSemicolon)
        XCTAssertTrue(PGSQLText.scan("CREATE TABLE a (x int); CREATE TABLE b (y int)", { _, _ in }).hasInnerSemicolon)
    }

    func testLiteralRendering() throws {
        func literal(_ v: SQLValue) throws -> String {
            var out: [UInt8] = []
            try PGSQLText.appendLiteral(v, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        XCTAssertEqual(try literal(.null), "NULL")
        XCTAssertEqual(try literal(.integer(-42)), "-42")
        XCTAssertEqual(try literal(.text("it's \\n")), "'it''s \\n'")
        XCTAssertEqual(try literal(.real(.nan)), "'NaN'::float8")
        XCTAssertEqual(try literal(.real(-.infinity)), "'-Infinity'::float8")
        XCTAssertEqual(try literal(.blob([0, 0xAB, 0xFF])), "'\\x00abff'::bytea")
        XCTAssertThrowsError(try literal(.text("a\u{0}b"))) { error in
            XCTAssertEqual((error as? ProvError)?.kind, .unprocessable)
        }
    }

    // MARK: Round trips

    func testValuesRoundTripThroughLiteralsAndBinds() throws {
        let db = try makeConnection()
        try db.execute(sql: "CREATE TABLE v (n int, i bigint, r double precision, s text, b bytea)")
        let texts = ["it's", "back\\slash \\n \\x00", "héllo ✓ 😀", "? and $$ and -- and /*", "", "\"quoted\"", "line\nbreak\ttab"]
        let reals: [Double] = [0.1, 1 / 3, -0.0, .pi, 1e300, 5e-324, -1e-310, .nan, .infinity, -.infinity, 123456789.123456789]
        let ints: [Int64] = [0, -1, .max, .min]
        let blobs: [[UInt8]] = [[], [0, 1, 2, 39, 92, 255], Array(0...255)]
        var n = 0
        var expected: [Int: (Int64?, Double?, String?, [UInt8]?)] = [:]
        let count = max(texts.count, reals.count, ints.count, blobs.count)
        // Half through deferred literals, half through the row inserter; both are literals.
        let inserter = try db.rowInserter(table: "v", columns: ["n", "i", "r", "s", "b"])
        for k in 0..<count {
            let row: (Int64?, Double?, String?, [UInt8]?) = (
                k < ints.count ? ints[k] : nil, k < reals.count ? reals[k] : nil,
                k < texts.count ? texts[k] : nil, k < blobs.count ? blobs[k] : nil)
            n += 1
            expected[n] = row
            let values: [SQLValue] = [.integer(Int64(n)), row.0.map(SQLValue.integer) ?? .null, row.1.map(SQLValue.real) ?? .null,
                                      row.2.map(SQLValue.text) ?? .null, row.3.map(SQLValue.blob) ?? .null]
            if k % 2 == 0 {
                try db.execute("INSERT INTO v (n, i, r, s, b) VALUES (?, ?, ?, ?, ?)", values)
            } else {
                try inserter.insert(values)
            }
        }
        for row in try db.fetchAll(sql: "SELECT n, i, r, s, b FROM v ORDER BY n") {
            let k: Int = row[0]
            let e = expected[k]!
            XCTAssertEqual(row[1], e.0.map(SQLValue.integer) ?? .null, "row \(k)")
            if let d = e.1 {
                guard case .real(let got) = row[2] else { XCTFail("row \(k): \(row[2])"); continue }
                XCTAssertTrue(d.isNaN ? got.isNaN : (got == d && got.sign == d.sign), "row \(k): \(got) != \(d)")
            } else {
                XCTAssertEqual(row[2], .null)
            }
            XCTAssertEqual(row[3], e.2.map(SQLValue.text) ?? .null, "row \(k)")
            XCTAssertEqual(row[4], e.3.map(SQLValue.blob) ?? .null, "row \(k)")
        }
        // The same values as binds of a reading statement.
        for t in texts {
            XCTAssertEqual(try String.fetchOne(db, sql: "SELECT ?::text", arguments: [t]), t)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM v WHERE s = ?", arguments: [t]), 1)
        }
        for d in reals where !d.isNaN {
            XCTAssertEqual(try Double.fetchOne(db, sql: "SELECT ?::float8", arguments: [d]), d)
        }
        XCTAssertEqual(try Int64.fetchOne(db, sql: "SELECT ?::int8", arguments: [Int64.min]), .min)
        XCTAssertEqual(try [UInt8].fetchOne(db, sql: "SELECT ?::bytea", arguments: [Array<UInt8>(0...255)]), Array(0...255))
        XCTAssertEqual(try db.fetchOne(sql: "SELECT ?", arguments: [SQLValue.null])?[0], .null)
    }

    func testValuesRoundTripThroughCopy() throws {
        let db = try makeConnection()
        try db.execute(sql: "CREATE TABLE c (n int, i bigint, r double precision, s text, b bytea)")
        let texts = ["it's", "back\\slash \\n \\. \\x00", "héllo ✓ 😀", "tab\there", "line\nbreak", "cr\rhere", "\\N", "", "\"q\""]
        let reals: [Double] = [0.1, 1 / 3, -0.0, .pi, 1e300, 5e-324, -1e-310, .nan, .infinity, -.infinity]
        let blobs: [[UInt8]] = [[], [0, 92, 9, 10, 255], Array(0...255)]
        var expected: [[SQLValue]] = []
        // More rows than go in the statements' block: they go by COPY.
        for n in 0..<(PGConnection.rowsWithoutCopy * 3) {
            expected.append([.integer(Int64(n)), n % 5 == 0 ? .null : .integer(Int64(n) * (n % 2 == 0 ? .max / 1000 : -7)),
                             .real(reals[n % reals.count]), .text(texts[n % texts.count]), n % 4 == 0 ? .null : .blob(blobs[n % blobs.count])])
        }
        let inserter = try db.rowInserter(table: "c", columns: ["n", "i", "r", "s", "b"])
        for row in expected { try inserter.insert(row) }
        let rows = try db.fetchAll(sql: "SELECT n, i, r, s, b FROM c ORDER BY n")
        XCTAssertEqual(rows.count, expected.count)
        for (row, e) in zip(rows, expected) {
            XCTAssertEqual(row[1], e[1])
            guard case .real(let want) = e[2], case .real(let got) = row[2] else { XCTFail("\(row[2])"); continue }
            XCTAssertTrue(want.isNaN ? got.isNaN : (got == want && got.sign == want.sign), "\(got) != \(want)")
            XCTAssertEqual(row[3], e[3])
            XCTAssertEqual(row[4], e[4])
        }
    }

    func testNULIsRefusedEverywhere() throws {
        let db = try makeConnection()
        try db.execute(sql: "CREATE TABLE t (s text)")
        for attempt in 0..<3 {
            do {
                switch attempt {
                case 0: try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: ["a\u{0}b"])
                case 1: try db.rowInserter(table: "t", columns: ["s"]).insert([.text("a\u{0}b")])
                default: _ = try db.fetchAll(sql: "SELECT ?::text", arguments: ["a\u{0}b"])
                }
                XCTFail("attempt \(attempt) accepted a NUL")
            } catch let error as ProvError {
                XCTAssertEqual(error.kind, .unprocessable)
                XCTAssertTrue(error.message.contains("NUL"))
            }
        }
        XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM t"), 0)
    }

    // MARK: Deferred statements

    func testDeferredStatementsKeepTheirOrderAndAreFlushedBeforeReads() throws {
        let db = try makeConnection()
        try db.execute(sql: "CREATE TABLE log (id int PRIMARY KEY, note text)")
        try db.execute(sql: "INSERT INTO log VALUES (?, ?)", arguments: [1, "first"])
        let inserter = try db.rowInserter(table: "log", columns: ["id", "note"])
        try inserter.insert([.integer(2), .text("second")])
        try inserter.insert([.integer(3), .text("third")])
        try db.execute(sql: "UPDATE log SET note = note || '!' WHERE id <= ?", arguments: [2])
        try inserter.insert([.integer(4), .text("fourth")])
        try db.execute(sql: "DELETE FROM log WHERE id = ?", arguments: [3])
        XCTAssertTrue(db.hasPendingStatements)
        XCTAssertEqual(db.pendingStatementCount, 6)  // CREATE, INSERT, 2 rows, UPDATE, 1 row, DELETE
        let rows = try db.fetchAll(sql: "SELECT id, note FROM log ORDER BY id")
        XCTAssertFalse(db.hasPendingStatements)
        XCTAssertEqual(rows.map { $0[1] as String }, ["first!", "second!", "fourth"])
    }

    func testRowsOfATableBecomeOneCopyUpToItsSizeLimit() throws {
        let db = try makeConnection()
        try db.execute(sql: "CREATE TABLE a (x bigint, y text)")
        try db.execute(sql: "CREATE TABLE b (x bigint)")
        try db.flush()
        let a = try db.rowInserter(table: "a", columns: ["x", "y"])
        let b = try db.rowInserter(table: "b", columns: ["x"])
        let text = String(repeating: "t", count: 1_000)
        // About 1 kB a row: the rows of `a` fill a COPY of 1 MB about every thousand rows.
        for i in 0..<2_500 { try a.insert([.integer(Int64(i)), .text(text)]) }
        XCTAssertEqual(db.pendingStatementCount, 3)  // 2.5 MB: two full COPYs and an open one
        let before = db.pendingStatementCount
        // Rows of another table do not close the open COPY: rows of different tables
        // interleave (a dataset row, then its event's idempotency key, ...).
        try b.insert([.integer(1)])
        try a.insert([.integer(2_500), .text("after b")])
        XCTAssertEqual(db.pendingStatementCount, before + 1)
        try db.flush()
        XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM a"), 2_501)
        XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM b"), 1)
        XCTAssertEqual(try String.fetchOne(db, sql: "SELECT y FROM a WHERE x = 2500"), "after b")
    }

    func testRowsWaitUntilAStatementNamesTheirTable() throws {
        let db = try makeConnection()
        try db.execute(sql: "CREATE TABLE kept (x bigint)")
        try db.execute(sql: "CREATE TABLE other (y bigint)")
        try db.flush()
        let rows = try db.rowInserter(table: "kept", columns: ["x"])
        try rows.insert([.integer(1)])
        try db.execute(sql: "INSERT INTO other VALUES (?)", arguments: [1])
        // A read of another table sends the statements before it; the rows stay open.
        XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM other"), 1)
        XCTAssertEqual(db.pendingStatementCount, 1)
        try rows.insert([.integer(2)])
        // A statement naming their table is sent after them, a read naming it sees them.
        try db.execute(sql: "UPDATE kept SET x = x * 10")
        XCTAssertEqual(try Int.fetchAll(db, sql: "SELECT x FROM kept ORDER BY x"), [10, 20])
        XCTAssertFalse(db.hasPendingStatements)
        // A statement that may read anything (a procedure, a prepared statement) sends them all.
        try rows.insert([.integer(3)])
        try db.execute(sql: "PREPARE counted AS SELECT count(*) FROM other")
        XCTAssertFalse(db.hasPendingStatements)
    }

    func testSimpleRunsTransactionControlAfterTheBuffer() throws {
        let db = try makeConnection()
        try db.execute(sql: "CREATE TABLE t (x int)")
        try db.simple("BEGIN")
        try db.execute(sql: "INSERT INTO t VALUES (1)")
        try db.simple("SAVEPOINT s")
        try db.execute(sql: "INSERT INTO t VALUES (2)")
        try db.simple("ROLLBACK TO SAVEPOINT s")
        try db.execute(sql: "INSERT INTO t VALUES (3)")
        try db.simple("COMMIT")
        XCTAssertEqual(try Int.fetchAll(db, sql: "SELECT x FROM t ORDER BY x"), [1, 3])
        // A statement that returns rows, sent through execute, runs as well.
        try db.execute(sql: "SELECT 1")
        try db.execute(sql: "SET statement_timeout = 0")
    }

    func testReaderPoolBoundsItsConnections() async throws {
        let url = try makeDatabase()
        let pool = PostgresReaderPool(url: url, logger: Logger(label: "test"))
        defer { pool.close() }
        let reads = 3 * PostgresReaderPool.maxOpen
        // Each read holds its connection a moment and counts the database's connections.
        let seen = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<reads {
                group.addTask {
                    try await pool.read { db in
                        try Int.fetchOne(db, sql: "SELECT count(*) FROM pg_stat_activity, pg_sleep(0.05) WHERE datname = current_database()") ?? 0
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        XCTAssertEqual(seen.count, reads)
        XCTAssertLessThanOrEqual(seen.max() ?? 0, PostgresReaderPool.maxOpen, "\(seen)")
        XCTAssertGreaterThan(seen.max() ?? 0, 1, "the reads ran one at a time: \(seen)")
    }

    func testEventsDeletedBeforeAServerReadThemAreReportedLost() throws {
        let db = try connect(makeDatabase())
        try PostgresSchema.migrate(db)
        let kept = PostgresTransactions.keptEvents
        let seqs: [Int64] = [1, 2, kept + 10, kept + 11, kept + 12]
        for seq in seqs {
            try db.execute(sql: "INSERT INTO live_event (seq, df_id, kind, data) VALUES (?, 1, 'rows', '{}')", arguments: [seq])
        }
        // A server at 2, the last event stored kept + 12: the writers deleted what it missed.
        let far = try PostgresEngine.missedEvents(after: 2, upTo: kept + 12, db)
        XCTAssertEqual(far.lostUpTo, 12)
        XCTAssertEqual(far.events.map(\.seq), [kept + 10, kept + 11, kept + 12])
        // A server less than `kept` behind reads what it missed, nothing lost.
        let near = try PostgresEngine.missedEvents(after: kept + 10, upTo: kept + 12, db)
        XCTAssertNil(near.lostUpTo)
        XCTAssertEqual(near.events.map(\.seq), [kept + 11, kept + 12])
        XCTAssertTrue(try PostgresEngine.missedEvents(after: kept + 12, upTo: kept + 12, db).events.isEmpty)
    }

    func testAConnectionIdleInATransactionIsEndedAndItsLocksFreed() throws {
        let url = try makeDatabase()
        let setup = try connect(url)
        try setup.simple("CREATE SCHEMA dnnprov")
        try setup.execute(sql: "CREATE TABLE turn (id int PRIMARY KEY)")
        try setup.execute(sql: "INSERT INTO turn VALUES (1)")
        try setup.flush()
        // A writer that took the turn and then stopped answering (a frozen process).
        let stalled = try PGConnection.connect(url: url, idleInTransactionTimeout: .seconds(1))
        connections.append(stalled)
        try stalled.simple("BEGIN")
        _ = try stalled.fetchAll(sql: "SELECT id FROM turn WHERE id = 1 FOR UPDATE")
        // The next writer gets the turn: it would give up after 10 s if the lock were kept.
        let next = try connect(url)
        try next.simple("BEGIN")
        try next.simple("SET LOCAL lock_timeout = '10s'")
        XCTAssertEqual(try Int.fetchAll(next, sql: "SELECT id FROM turn WHERE id = 1 FOR UPDATE"), [1])
        try next.simple("COMMIT")
        XCTAssertThrowsError(try stalled.simple("COMMIT"), "the stalled session was ended")
        XCTAssertEqual(try String.fetchOne(next, sql: "SHOW tcp_keepalives_idle"), "30")
        // Readers keep the server's setting (a PROV export waits on its client between parts).
        XCTAssertEqual(try String.fetchOne(next, sql: "SHOW idle_in_transaction_session_timeout"), "0")
    }

    // MARK: Reading

    func testRowsAreTypedByColumnType() throws {
        let db = try makeConnection()
        let row = try XCTUnwrap(db.fetchOne(sql: """
            SELECT 1::int2 AS a, 2::int4 AS b, 3::int8 AS c, 4::oid AS d, 1.5::float4 AS e, 2.5::float8 AS f,
                   3.25::numeric AS g, 'NaN'::numeric AS h, -12345678.000901::numeric AS i, true AS j, false AS k,
                   '\\x0102'::bytea AS l, 'v'::varchar AS m, 'c'::char(3) AS n, 'nm'::name AS o, '{"a": 1}'::json AS p,
                   '{"a": 1}'::jsonb AS q, NULL AS r, '2024-01-02 03:04:05Z'::timestamptz AS s, 0::numeric AS t
            """))
        XCTAssertEqual(row.columns, ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t"])
        XCTAssertEqual(Array(row.values[0..<4]), [.integer(1), .integer(2), .integer(3), .integer(4)])
        XCTAssertEqual(row[4], .real(1.5))
        XCTAssertEqual(row[5], .real(2.5))
        XCTAssertEqual(row[6], .real(3.25))
        guard case .real(let nan) = row[7], nan.isNaN else { return XCTFail("\(row[7])") }
        XCTAssertEqual(row[8], .real(-12345678.000901))
        XCTAssertEqual(row[9], .integer(1))
        XCTAssertEqual(row[10], .integer(0))
        XCTAssertEqual(row[11], .blob([1, 2]))
        XCTAssertEqual(row[12], .text("v"))
        XCTAssertEqual(row[13], .text("c  "))
        XCTAssertEqual(row[14], .text("nm"))
        XCTAssertEqual(row[15], .text("{\"a\": 1}"))
        XCTAssertEqual(row[16], .text("{\"a\": 1}"))
        XCTAssertEqual(row[17], .null)
        guard case .text(let ts) = row[18], ts.hasPrefix("2024-01-02T03:04:05") else { return XCTFail("\(row[18])") }
        XCTAssertEqual(row[19], .real(0))
    }

    func testStreamingStopsEarlyAndTheConnectionStaysUsable() throws {
        let db = try makeConnection()
        var seen: [Int] = []
        try db.forEachRow("SELECT g FROM generate_series(1, 200000) g", []) { row in
            seen.append(row[0])
            return seen.count < 10
        }
        XCTAssertEqual(seen, Array(1...10))
        XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT 41 + ?", arguments: [1]), 42)
        var total = 0
        try db.forEachRow("SELECT g FROM generate_series(1, 5000) g", []) { row in total += row[0] as Int; return true }
        XCTAssertEqual(total, 5000 * 5001 / 2)
        XCTAssertNil(try db.fetchOne(sql: "SELECT 1 WHERE false"))

        // Statements inside a read's loop (GRDB allows them): the read's rest is read ahead.
        try db.execute(sql: "CREATE TABLE seen (g int)")
        var pairs: [Int] = []
        try db.forEachRow("SELECT g FROM generate_series(1, 2000) g", []) { row in
            let g: Int = row[0]
            try db.execute(sql: "INSERT INTO seen VALUES (?)", arguments: [g])
            if g % 500 == 0 { pairs.append(try Int.fetchOne(db, sql: "SELECT count(*) FROM seen") ?? -1) }
            return true
        }
        XCTAssertEqual(pairs, [500, 1000, 1500, 2000])
    }

    /// Rough throughput (`DNNPROV_TEST_POSTGRES_PERF=1`): rows through the inserter, rows streamed back.
    func testThroughputSmoke() throws {
        guard ProcessInfo.processInfo.environment["DNNPROV_TEST_POSTGRES_PERF"] != nil else {
            throw XCTSkip("set DNNPROV_TEST_POSTGRES_PERF=1 to measure throughput")
        }
        let db = try makeConnection()
        try db.execute(sql: "CREATE TABLE p (task bigint, id bigint, a double precision, b double precision, c text, PRIMARY KEY (task, id))")
        let rows = 200_000
        var start = Date()
        try db.simple("BEGIN")
        let inserter = try db.rowInserter(table: "p", columns: ["task", "id", "a", "b", "c"])
        for i in 0..<rows {
            try inserter.insert([.integer(Int64(i / 100)), .integer(Int64(i)), .real(Double(i) / 7), .real(0.5), .text("adam")])
        }
        try db.simple("COMMIT")
        let insertSeconds = Date().timeIntervalSince(start)
        start = Date()
        var n = 0
        try db.forEachRow("SELECT * FROM p", []) { _ in n += 1; return true }
        let readSeconds = Date().timeIntervalSince(start)
        XCTAssertEqual(n, rows)
        print("inserted \(Int(Double(rows * 5) / insertSeconds)) values/s; streamed \(Int(Double(rows) / readSeconds)) rows/s")
    }

    // MARK: Errors

    func testServerErrorsBecomeStorageErrorsWithTheirMessage() throws {
        let db = try makeConnection()
        XCTAssertThrowsError(try db.fetchAll(sql: "SELEC 1")) { error in
            guard case .storage(let m) = error as? ProvStoreError else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("syntax error"), m)
            XCTAssertEqual(PGConnection.sqlState(of: error), "42601")
        }
        // A deferred statement's error comes with the flush; the buffer is emptied.
        try db.execute(sql: "CREATE TABLE u (x int PRIMARY KEY)")
        try db.flush()
        try db.execute(sql: "INSERT INTO u VALUES (1)")
        try db.execute(sql: "INSERT INTO u VALUES (1)")
        XCTAssertThrowsError(try db.flush()) { error in
            XCTAssertEqual(PGConnection.sqlState(of: error), "23505", "\(error)")
        }
        XCTAssertFalse(db.hasPendingStatements)
        XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM u"), 0)  // the batch is one statement
        try db.execute(sql: "INSERT INTO u VALUES (1)")
        XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM u"), 1)

        try db.simple("SET statement_timeout = 50")
        XCTAssertThrowsError(try db.fetchAll(sql: "SELECT pg_sleep(2)")) { error in
            XCTAssertEqual((error as? ProvError)?.kind, .timeout, "\(error)")
        }
        try db.simple("SET statement_timeout = 0")
        XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT 1"), 1)
    }

    func testConnectionRefusedNamesHostAndPort() throws {
        _ = try serverURL()
        let url = try PostgresURL("postgresql://nobody:hunter2@127.0.0.1:1/none")
        XCTAssertThrowsError(try PGConnection.connect(url: url)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("cannot connect to PostgreSQL at 127.0.0.1:1"), text)
            XCTAssertFalse(text.contains("hunter2"))
        }
        var missing = try serverURL()
        missing.database = "dnnprov_no_such_database"
        XCTAssertThrowsError(try PGConnection.connect(url: missing)) { error in
            XCTAssertTrue("\(error)".contains("does not exist"), "\(error)")
        }
    }

    // MARK: Schema

    func testMigrateIsIdempotentAndSafeFromTwoConnectionsAtOnce() throws {
        let url = try makeDatabase()
        let a = try connect(url), b = try connect(url)
        let failures = LockedList()
        let group = DispatchGroup()
        for c in [a, b] {
            let box = UncheckedBox(c)
            DispatchQueue.global().async(group: group) {
                do { try PostgresSchema.migrate(box.value) } catch {
                    failures.append("\(error)")
                }
            }
        }
        group.wait()
        XCTAssertEqual(failures.items, [])
        try PostgresSchema.migrate(a)
        XCTAssertEqual(try Int.fetchOne(a, sql: "SELECT count(*) FROM schema_migration"), PostgresSchema.migrations.count)
        for table in GlobalSchema.readableTables.sorted() + ["api_token", "ingest_key", "dfa_sent", "live_seq", "store_state", "live_event", "live_follow", "schema_migration"] {
            XCTAssertTrue(try a.dialect.tableExists(a, table), table)
        }
        XCTAssertEqual(try a.fetchOne(sql: "SELECT epoch, seq FROM store_state")?.values, [.integer(0), .integer(0)])
        XCTAssertEqual(try Int.fetchOne(a, sql: "SELECT count(*) FROM pg_roles WHERE rolname = 'dnnprov_reader'"), 1)
        // The same SQL as SQLite: identity ids, "user" quoted.
        let df = try a.insertReturningID(sql: "INSERT INTO dataflow (tag, created_at) VALUES (?, ?)", arguments: ["mnist", "now"])
        let exec = try a.insertReturningID(sql: "INSERT INTO dataflow_execution (df_id, tag, \"user\") VALUES (?, ?, ?)",
                                           arguments: [df, "run1", "alice"])
        XCTAssertTrue(try a.insertIfAbsent(sql: "INSERT INTO idempotency_key (df_id, key, fingerprint) VALUES (?, ?, ?)", arguments: [df, "k", "f"]))
        XCTAssertFalse(try a.insertIfAbsent(sql: "INSERT INTO idempotency_key (df_id, key, fingerprint) VALUES (?, ?, ?)", arguments: [df, "k", "f"]))
        XCTAssertEqual(try String.fetchOne(a, sql: "SELECT \"user\" FROM dataflow_execution WHERE id = ?", arguments: [exec]), "alice")
        // The reader role reads the PROV tables, not the tokens.
        try a.simple("BEGIN")
        try a.simple("SET LOCAL ROLE dnnprov_reader")
        XCTAssertEqual(try Int.fetchOne(a, sql: "SELECT count(*) FROM dataflow"), 1)
        XCTAssertThrowsError(try a.fetchAll(sql: "SELECT * FROM api_token"))
        try a.simple("ROLLBACK")
    }

    func testDialectSetTablesAndViews() throws {
        let db = try makeConnection()
        try PostgresSchema.migrate(db)
        let dialect = PostgresDialect()
        let table = dialect.physicalTable(dataflow: "MNIST.v2", set: "oTrainingModel")
        XCTAssertEqual(table, "dnnprov_data.mnist_v2__ds_otrainingmodel")
        XCTAssertEqual(dialect.tableSQL(table), "\"dnnprov_data\".\"mnist_v2__ds_otrainingmodel\"")
        XCTAssertFalse(try dialect.tableExists(db, table))
        let attributes = [AttributeSpec(name: "loss", type: .numeric), AttributeSpec(name: "optimizer", type: .text)]
        try dialect.createSetTable(db, table: table, ownerColumn: "trainingmodel_task_id", attributes: attributes)
        var set = SetEntry(id: 1, tag: "otrainingmodel", table: table)
        set.attributes = attributes
        set.taskColumns = ["trainingmodel"]
        try dialect.setChanged(db, set: set, dataflow: "mnist_v2")
        XCTAssertTrue(try dialect.tableExists(db, table))
        XCTAssertEqual(try dialect.columns(db, table: table), ["trainingmodel_task_id", "id", "loss", "optimizer"])
        let rows = try db.rowInserter(table: table, columns: ["trainingmodel_task_id", "id", "loss", "optimizer"])
        try rows.insert([.integer(1), .integer(1), dialect.numeric(.nan), .text("adam")])
        try rows.insert([.integer(1), .integer(2), dialect.numeric(0.25), .text("adam")])

        try dialect.addColumn(db, table: table, column: "epoch", type: .numeric)
        try dialect.addColumn(db, table: table, column: "adaptation_task_id", type: nil)
        try dialect.addColumn(db, table: table, column: "epoch", type: .numeric)  // again: IF NOT EXISTS
        set.attributes.append(AttributeSpec(name: "epoch", type: .numeric))
        set.taskColumns.append("adaptation")
        // A task column lands in the middle of the views' columns: they are made again.
        try dialect.setChanged(db, set: set, dataflow: "mnist_v2")
        XCTAssertEqual(try dialect.columns(db, table: table), ["trainingmodel_task_id", "id", "loss", "optimizer", "epoch", "adaptation_task_id"])
        XCTAssertEqual(try dialect.columns(db, table: "mnist_v2.ds_otrainingmodel"),
                       ["id", "trainingmodel_task_id", "adaptation_task_id", "loss", "optimizer", "epoch"])
        // The seeds' query runs verbatim with the dataflow's schema on the search path, on the
        // table's view and on the set's view.
        try db.simple("SET search_path = mnist_v2, dnnprov")
        XCTAssertEqual(try Double.fetchOne(db, sql: "select min(loss) from ds_otrainingmodel where trainingmodel_task_id=1"), 0.25)
        XCTAssertEqual(try Int.fetchOne(db, sql: "select count(*) from otrainingmodel"), 2)
        // Reader grants on the dataflow's schema, none on the data schema.
        try db.simple("BEGIN")
        try db.simple("SET LOCAL ROLE dnnprov_reader")
        XCTAssertEqual(try Int.fetchOne(db, sql: "select count(*) from otrainingmodel"), 2)
        XCTAssertThrowsError(try db.fetchAll(sql: "select * from dnnprov_data.mnist_v2__ds_otrainingmodel"))
        try db.simple("ROLLBACK")
        // Creating again is harmless.
        try dialect.createSetTable(db, table: table, ownerColumn: "trainingmodel_task_id", attributes: [])
        try db.flush()
        XCTAssertEqual(dialect.greatest("a", "b"), "greatest(a, b)")
        XCTAssertEqual(dialect.maxAttributes, 1_500)
    }
}

private final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

private final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func append(_ s: String) { lock.lock(); list.append(s); lock.unlock() }
    var items: [String] { lock.lock(); defer { lock.unlock() }; return list }
}

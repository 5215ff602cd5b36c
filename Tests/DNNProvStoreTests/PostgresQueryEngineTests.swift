import DNNProvModel
import DNNProvStore
@testable import DNNProvPostgres
import Foundation
import Logging
import PostgresNIO
import XCTest

/// The PostgreSQL user-query engine against a real server: set DNNPROV_TEST_POSTGRES_URL
/// (e.g. postgresql://dnnprov@127.0.0.1:55432/postgres, a user that may create databases and
/// roles). Each test makes a scratch database `h5_qe_<random>` holding a small copy of the
/// layout (schema `dnnprov` with a few global tables, `api_token` among them; dataflow schemas
/// `df_mnist` and `df_cifar`; the role `dnnprov_reader`) and drops it afterwards.
final class PostgresQueryEngineTests: XCTestCase {
    private var baseURL: PostgresURL!
    private var url: PostgresURL!
    private var database = ""
    private var engines: [PostgresQueryEngine] = []
    private let logger = Logger(label: "test.postgres-query")

    override func setUp() async throws {
        guard let raw = ProcessInfo.processInfo.environment["DNNPROV_TEST_POSTGRES_URL"], !raw.isEmpty else {
            throw XCTSkip("DNNPROV_TEST_POSTGRES_URL is not set")
        }
        baseURL = try PostgresURL(raw)
        database = "h5_qe_\(UUID().uuidString.prefix(8).lowercased())"
        try await admin(on: baseURL) { c in
            try await c.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)"), logger: logger)
        }
        url = baseURL
        url.database = database
        try await admin(on: url) { c in
            for sql in Self.layout {
                try await c.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            }
        }
    }

    override func tearDown() async throws {
        for e in engines { e.shutdown() }
        engines = []
        guard let baseURL, !database.isEmpty else { return }
        try? await Task.sleep(for: .milliseconds(100))
        try await admin(on: baseURL) { c in
            try await c.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(database) WITH (FORCE)"), logger: logger)
        }
    }

    // MARK: - Fixture

    /// A small copy of the PostgreSQL layout: enough global tables to tell readable from internal.
    static let layout: [String] = {
        var sql = [
            "CREATE SCHEMA dnnprov",
            "CREATE TABLE dnnprov.dataflow (id bigint PRIMARY KEY, tag text NOT NULL)",
            "CREATE TABLE dnnprov.task (id bigint PRIMARY KEY, identifier text, df_exec text)",
            "CREATE TABLE dnnprov.api_token (id bigint PRIMARY KEY, token_hash text)",
            "INSERT INTO dnnprov.dataflow VALUES (1, 'mnist'), (2, 'cifar')",
            "INSERT INTO dnnprov.task VALUES (1, '1', 'run'), (3, '3', 'run')",
            "INSERT INTO dnnprov.api_token VALUES (1, 'secret-hash')",
            // The seeds round doubles: PostgreSQL only rounds numerics to a number of digits.
            """
            CREATE FUNCTION dnnprov.round(double precision, integer) RETURNS double precision
              LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT pg_catalog.round($1::numeric, $2)::double precision'
            """,
            // Roles are server-wide: other scratch databases may have made it already.
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dnnprov_reader') THEN CREATE ROLE dnnprov_reader NOLOGIN; END IF; END $$",
            "GRANT dnnprov_reader TO CURRENT_USER",
            "GRANT USAGE ON SCHEMA dnnprov TO dnnprov_reader",
            "GRANT SELECT ON dnnprov.dataflow, dnnprov.task TO dnnprov_reader",
        ]
        for df in ["mnist", "cifar"] {
            sql += [
                "CREATE SCHEMA df_\(df)",
                """
                CREATE TABLE df_\(df).ds_otrainingmodel (trainingmodel_task_id bigint, id bigint, loss double precision,
                  accuracy double precision, epoch double precision, elapsed_time double precision)
                """,
                "CREATE VIEW df_\(df).otrainingmodel AS SELECT * FROM df_\(df).ds_otrainingmodel",
                "GRANT USAGE ON SCHEMA df_\(df) TO dnnprov_reader",
                "GRANT SELECT ON ALL TABLES IN SCHEMA df_\(df) TO dnnprov_reader",
            ]
        }
        // Trainings 1 and 3, five epochs each; accuracy rises, loss falls.
        var rows: [String] = []
        var id = 0
        for task in [1, 3] {
            for epoch in 1...5 {
                id += 1
                let accuracy = Double(epoch) / 10 + Double(task) / 100
                rows.append("(\(task), \(id), \(1.0 / Double(epoch)), \(accuracy), \(epoch), \(Double(task) + Double(epoch) / 10))")
            }
        }
        sql.append("INSERT INTO df_mnist.ds_otrainingmodel VALUES \(rows.joined(separator: ", "))")
        sql.append("INSERT INTO df_cifar.ds_otrainingmodel VALUES (9, 1, 0.5, 0.99, 1, 1)")
        return sql
    }()

    private func admin(on url: PostgresURL, _ body: (PostgresConnection) async throws -> Void) async throws {
        let c = try await PostgresConnection.connect(configuration: url.configuration(), id: 1, logger: logger)
        do {
            try await body(c)
        } catch {
            try? await c.close()
            throw error
        }
        try await c.close()
    }

    private func engine(workers: Int = 4, maxWaiting: Int = 32) throws -> PostgresQueryEngine {
        let e = try PostgresQueryEngine(url: url, configuration: QueryPoolConfiguration(workers: workers, maxWaiting: maxWaiting), logger: logger)
        engines.append(e)
        return e
    }

    private func run(_ e: PostgresQueryEngine, _ sql: String, dataflow: String? = "df_mnist", scope: [String]? = nil,
                     limit: Int = 10_000, maxBytes: Int = 1 << 20, timeout: Duration = .seconds(10)) async throws -> QueryResult {
        try await e.run(sql, dataflowSchema: dataflow, scopeSchemas: scope, limit: limit, maxBytes: maxBytes, timeout: timeout)
    }

    /// The error `sql` fails with.
    private func failure(_ e: PostgresQueryEngine, _ sql: String, dataflow: String? = "df_mnist", scope: [String]? = nil,
                         timeout: Duration = .seconds(10), file: StaticString = #filePath, line: UInt = #line) async -> ProvError? {
        do {
            let r = try await run(e, sql, dataflow: dataflow, scope: scope, timeout: timeout)
            XCTFail("'\(sql)' answered \(r.rows)", file: file, line: line)
            return nil
        } catch let error as ProvError {
            return error
        } catch {
            XCTFail("'\(sql)' failed with \(String(reflecting: error))", file: file, line: line)
            return nil
        }
    }

    // MARK: - The seeds' queries, verbatim

    func testSeedQueriesVerbatim() async throws {
        let e = try engine()
        let best = try await run(e, """
            select trainingmodel_task_id as MODEL_ID, max(accuracy) as ACCURACY, min(loss) as LOSS
              from ds_otrainingmodel where trainingmodel_task_id=1 or trainingmodel_task_id=3
              group by trainingmodel_task_id;
            """)
        // PostgreSQL folds unquoted names to lower case.
        XCTAssertEqual(best.columns, [.init(name: "model_id", type: "bigint"), .init(name: "accuracy", type: "double precision"),
                                      .init(name: "loss", type: "double precision")])
        let byTask = Dictionary(uniqueKeysWithValues: best.rows.map { ($0[0].double ?? -1, $0) })
        XCTAssertEqual(byTask[1]?[1].double ?? 0, 0.51, accuracy: 1e-9)
        XCTAssertEqual(byTask[3]?[1].double ?? 0, 0.53, accuracy: 1e-9)
        XCTAssertEqual(byTask[3]?[2].double ?? 0, 0.2, accuracy: 1e-9)
        XCTAssertFalse(best.truncated)

        let lag = try await run(e, """
            select trainingmodel_task_id, round(accuracy, 3) as accuracy, epoch,
              round(accuracy - lag(accuracy, 1) OVER (ORDER BY id), 3) as diff_with_previous_acc
              from ds_otrainingmodel;
            """)
        XCTAssertEqual(lag.rows.count, 10)
        XCTAssertEqual(lag.columns.map(\.name), ["trainingmodel_task_id", "accuracy", "epoch", "diff_with_previous_acc"])
        XCTAssertEqual(lag.rows[0][3], .null)
        XCTAssertEqual(lag.rows[1][3].double ?? 0, 0.1, accuracy: 1e-9)

        let times = try await run(e, """
            select trainingmodel_task_id as modelid, avg(elapsed_time) as average_time,
              round(max(elapsed_time),3) as max_time, round(min(elapsed_time),3) as min_time
              from ds_otrainingmodel group by trainingmodel_task_id;
            """)
        XCTAssertEqual(times.rows.count, 2)

        // Q1 of seed 003, the set's view, and a global table through the search path.
        let q1 = try await run(e, "select loss from ds_otrainingmodel where trainingmodel_task_id = 3 and epoch = 2;")
        XCTAssertEqual(q1.rows, [[.real(0.5)]])
        let view = try await run(e, "select count(*) from otrainingmodel")
        XCTAssertEqual(view.rows, [[.integer(10)]])
        let tasks = try await run(e, "select id, identifier, df_exec from task order by id")
        XCTAssertEqual(tasks.rows, [[.integer(1), .text("1"), .text("run")], [.integer(3), .text("3"), .text("run")]])
        // No dataflow: the global tables only; dataflow tables qualified.
        let global = try await run(e, "select count(*) from df_mnist.ds_otrainingmodel join dataflow on dataflow.id = 1", dataflow: nil)
        XCTAssertEqual(global.rows, [[.integer(10)]])
    }

    func testValueTypes() async throws {
        let e = try engine()
        let r = try await run(e, """
            select 1::int2 as a, 2::int4 as b, 3::int8 as c, 1.5::float4 as d, 2.5::float8 as e, 1.25::numeric as f,
                   true as g, '\\x6162'::bytea as h, 'x'::text as i, '2024-01-02'::date as j,
                   '2024-01-02 03:04:05.5+00'::timestamptz as k, null::text as l, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid as m,
                   '{"a":1}'::jsonb as n, 'NaN'::numeric as o, 123456789012345678901234567890::numeric as p,
                   -0.000012345::numeric as q, 10000.5::numeric as r, round(2.0::float8::numeric, 3) as s, 'NaN'::float8 as t
            """)
        XCTAssertEqual(r.columns.map(\.type), ["smallint", "integer", "bigint", "real", "double precision", "numeric", "boolean",
                                               "bytea", "text", "date", "timestamp with time zone", "text", "uuid", "jsonb",
                                               "numeric", "numeric", "numeric", "numeric", "numeric", "double precision"])
        let row = try XCTUnwrap(r.rows.first)
        XCTAssertEqual(Array(row[0..<9]), [.integer(1), .integer(2), .integer(3), .real(1.5), .real(2.5), .real(1.25), .integer(1),
                                           .blob(Data("ab".utf8)), .text("x")])
        XCTAssertEqual(row[9], .text("2024-01-02"))
        XCTAssertEqual(row[10], .text("2024-01-02T03:04:05.500Z"))
        XCTAssertEqual(row[11], .null)
        XCTAssertEqual(row[12], .text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
        XCTAssertEqual(row[13], .text("{\"a\": 1}"))
        XCTAssertEqual(row[14], .text("NaN"))
        XCTAssertEqual(row[15].double ?? 0, 1.2345678901234568e29, accuracy: 1e15)
        XCTAssertEqual(row[16], .real(-0.000012345))
        XCTAssertEqual(row[17], .real(10000.5))
        XCTAssertEqual(row[18], .real(2))
        XCTAssertEqual(row[19].double?.isNaN, true)
        let numerics = try await run(e, "select 1e-40::numeric, 12345678901234567890123456789012345678901234567890.25::numeric")
        XCTAssertEqual(numerics.rows.first?[0].double ?? 0, 1e-40, accuracy: 1e-50)
        XCTAssertEqual(numerics.rows.first?[1].double ?? 0, 1.2345678901234568e49, accuracy: 1e35)
        // A type without a text form here: the error says how to get one.
        let interval = await failure(e, "select interval '1 day' as i")
        XCTAssertEqual(interval?.kind, .badRequest)
        XCTAssertTrue(interval?.message.contains("::text") ?? false, interval?.message ?? "")
        let cast = try await run(e, "select interval '1 day'::text as i")
        XCTAssertEqual(cast.rows, [[.text("1 day")]])
    }

    // MARK: - Limits

    func testRowLimitAndByteBudget() async throws {
        let e = try engine()
        let rows = try await run(e, "select g from generate_series(1, 100000) g", limit: 10)
        XCTAssertEqual(rows.rows.count, 10)
        XCTAssertTrue(rows.truncated)
        XCTAssertEqual(rows.limit, .rows)
        let exact = try await run(e, "select g from generate_series(1, 10) g", limit: 10)
        XCTAssertEqual(exact.rows.count, 10)
        XCTAssertFalse(exact.truncated)
        XCTAssertNil(exact.limit)

        let bytes = try await run(e, "select repeat('x', 1000) from generate_series(1, 100)", maxBytes: 5_000)
        XCTAssertEqual(bytes.rows.count, 4)
        XCTAssertTrue(bytes.truncated)
        XCTAssertEqual(bytes.limit, .bytes)
        // The connection is fine after a stop in the middle of a result.
        let after = try await run(e, "select 1")
        XCTAssertEqual(after.rows, [[.integer(1)]])
        // A stop does not wait for the rest of a huge result: here an endless one, streamed.
        let start = ContinuousClock.now
        let huge = try await run(e, "with recursive t(n) as (select 1 union all select n + 1 from t) select n as h5_endless from t",
                                 limit: 10_000, timeout: .seconds(30))
        XCTAssertEqual(huge.rows.count, 10_000)
        XCTAssertEqual(huge.limit, .rows)
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(3))
        // The stopped statement does not run on at the server either.
        try await Task.sleep(for: .milliseconds(300))
        let running = try await run(e, "select count(*) from pg_stat_activity where query like '%h5_endless%' and pid <> pg_backend_pid()")
        XCTAssertEqual(running.rows, [[.integer(0)]])
        let again = try await run(e, "select g from generate_series(1, 5) g", limit: 2)
        XCTAssertEqual(again.rows, [[.integer(1)], [.integer(2)]])
    }

    func testTimeout() async throws {
        let e = try engine()
        let start = ContinuousClock.now
        let error = await failure(e, "select pg_sleep(5)", timeout: .milliseconds(200))
        XCTAssertEqual(error?.kind, .timeout)
        XCTAssertEqual(error?.message, "the query ran past its time limit and was stopped")
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(2))
        // The next query on the pool runs normally (the timeout was the transaction's alone).
        let after = try await run(e, "select pg_sleep(0.3)", timeout: .seconds(5))
        XCTAssertEqual(after.rows.count, 1)
    }

    // MARK: - What the database refuses

    func testWritesAreRefused() async throws {
        let e = try engine()
        let attempts = [
            "insert into ds_otrainingmodel (id) values (99)",
            "update ds_otrainingmodel set loss = 0",
            "delete from ds_otrainingmodel",
            "create table t (x int)",
            "drop table ds_otrainingmodel",
            "copy ds_otrainingmodel to '/tmp/h5_out'",
            "truncate ds_otrainingmodel",
            // Past the first keyword: the read-only transaction refuses these.
            "with x as (insert into ds_otrainingmodel (id) values (99) returning id) select * from x",
            "with x as (delete from ds_otrainingmodel returning id) select count(*) from x",
            "select * into h5_copy from ds_otrainingmodel",
            "select nextval('h5_none')",
            // The reader role's missing privileges refuse these.
            "select pg_terminate_backend(pg_backend_pid())",
            "select pg_read_file('/etc/passwd')",
            "select lo_import('/etc/passwd')",
            "select pg_ls_dir('.')",
            "select set_config('role', 'dnnprov', true)",
            "select set_config('role', current_user, true), query_to_xml('select * from dnnprov.api_token', true, true, '')",
            "select set_config('session_authorization', session_user, true)",
        ]
        for sql in attempts {
            let error = await failure(e, sql)
            XCTAssertNotNil(error, sql)
            if let error, error.kind != .forbidden {
                // nextval of a missing sequence is a plain SQL error: still nothing written.
                XCTAssertEqual(error.kind, .badRequest, "\(sql): \(error.message)")
                XCTAssertTrue(sql.contains("nextval"), "\(sql): \(error)")
            }
        }
        // Statements run inside a function are checked the same way.
        for sql in ["select query_to_xml('reset role', true, true, '')",
                    "select query_to_xml('insert into ds_otrainingmodel (id) values (1) returning id', true, true, '')",
                    "select dblink_exec('dbname=postgres', 'drop table x')"] {
            let error = await failure(e, sql)
            XCTAssertNotNil(error, sql)
        }
        let count = try await run(e, "select count(*) from ds_otrainingmodel")
        XCTAssertEqual(count.rows, [[.integer(10)]])
        // A session-level advisory lock does not outlive the query (one connection: workers 1).
        let single = try engine(workers: 1)
        _ = try await run(single, "select pg_advisory_lock(4242)")
        let locks = try await run(single, "select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()")
        XCTAssertEqual(locks.rows, [[.integer(0)]])
        let forbidden = await failure(e, "with x as (insert into ds_otrainingmodel (id) values (99) returning id) select * from x")
        XCTAssertEqual(forbidden?.kind, .forbidden)
        XCTAssertTrue(forbidden?.message.hasPrefix("only read-only queries are allowed") ?? false, forbidden?.message ?? "")
    }

    func testSessionCommandsAndSeveralStatementsAreRefused() async throws {
        let e = try engine()
        for sql in ["RESET ROLE; select * from dnnprov.api_token", "select 1; reset role", "select 1;select 2",
                    "select 1 /* ; */ ; select * from dnnprov.api_token"] {
            let error = await failure(e, sql)
            XCTAssertEqual(error?.kind, .badRequest, sql)
            XCTAssertEqual(error?.message, "one statement at a time: the query holds more than one", sql)
        }
        for sql in ["reset role", "RESET ROLE", "set role dnnprov", "SET ROLE NONE", "set session authorization dnnprov",
                    "set search_path = dnnprov", "reset all", "begin", "commit", "rollback", "start transaction",
                    "do $$ begin reset role; end $$", "discard all", "lock dnnprov.task", "prepare p as select 1",
                    "listen x", "notify x"] {
            let error = await failure(e, sql)
            XCTAssertEqual(error?.kind, .forbidden, sql)
        }
        // Semicolons at the end, or inside strings, quoted names and comments, are one statement.
        for sql in ["select 1;", "select 1 ; ;", "select ';' as x", "select $$;$$ as x", "select $tag$ ; $tag$ as x",
                    "select E'\\';' as x", "select 1 as \";\"", "select 1 -- ; select 2", "/* ; */ select 1",
                    "select 1 /* a /* nested ; */ comment */"] {
            let r = try await run(e, sql)
            XCTAssertEqual(r.rows.count, 1, sql)
        }
        let empty = await failure(e, "  ;  -- nothing")
        XCTAssertEqual(empty?.kind, .badRequest)
        let syntax = await failure(e, "select from where")
        XCTAssertEqual(syntax?.kind, .badRequest)
        XCTAssertTrue(syntax?.message.hasPrefix("SQL error: syntax error") ?? false, syntax?.message ?? "")
        let missing = await failure(e, "select * from ds_nothing")
        XCTAssertEqual(missing?.kind, .badRequest)
        XCTAssertTrue(missing?.message.contains("ds_nothing") ?? false, missing?.message ?? "")
    }

    func testInternalTablesAreRefused() async throws {
        let e = try engine()
        for sql in ["SELECT * FROM dnnprov.api_token", "select * from api_token", "select count(*) from dnnprov.api_token",
                    "table dnnprov.api_token"] {
            let error = await failure(e, sql)
            XCTAssertEqual(error?.kind, .forbidden, sql)
            XCTAssertTrue(error?.message.contains("permission denied") ?? false, error?.message ?? "")
        }
    }

    // MARK: - Scope

    func testScopedQueriesReadOnlyTheirDataflows() async throws {
        let e = try engine()
        let mnist = ["df_mnist"]
        let own = try await run(e, "select count(*) from ds_otrainingmodel", scope: mnist)
        XCTAssertEqual(own.rows, [[.integer(10)]])
        let lag = try await run(e, """
            select trainingmodel_task_id, round(accuracy, 3) as accuracy, epoch,
              round(accuracy - lag(accuracy, 1) OVER (ORDER BY id), 3) as diff_with_previous_acc
              from ds_otrainingmodel;
            """, scope: mnist)
        XCTAssertEqual(lag.rows.count, 10)
        for sql in ["select * from df_cifar.ds_otrainingmodel", "select * from df_cifar.otrainingmodel",
                    "select * from dnnprov.task", "select * from task", "select * from dnnprov.api_token"] {
            let error = await failure(e, sql, scope: mnist)
            XCTAssertEqual(error?.kind, .forbidden, sql)
        }
        // Unqualified names of another dataflow's schema do not reach it either.
        let other = await failure(e, "select * from ds_otrainingmodel", dataflow: "df_cifar", scope: mnist)
        XCTAssertNotNil(other)
        // The other way round, and a scope of both.
        let cifar = try await run(e, "select id from ds_otrainingmodel", dataflow: "df_cifar", scope: ["df_cifar"])
        XCTAssertEqual(cifar.rows, [[.integer(1)]])
        let mnistFromCifar = await failure(e, "select * from df_mnist.ds_otrainingmodel", dataflow: "df_cifar", scope: ["df_cifar"])
        XCTAssertEqual(mnistFromCifar?.kind, .forbidden)
        let both = try await run(e, "select (select count(*) from df_mnist.ds_otrainingmodel) + (select count(*) from df_cifar.ds_otrainingmodel)",
                                 scope: ["df_mnist", "df_cifar"])
        XCTAssertEqual(both.rows, [[.integer(11)]])
        // Leaving the scope role by set_config is refused by the database.
        let escape = await failure(e, "select set_config('role', 'dnnprov_reader', true), query_to_xml('select count(*) from df_cifar.ds_otrainingmodel', true, true, '')", scope: mnist)
        XCTAssertEqual(escape?.kind, .forbidden)
        // A set added after the scope role was made is readable at once.
        try await admin(on: url) { c in
            try await c.query("CREATE TABLE df_mnist.ds_ofilters (filters_task_id bigint, filter_name text)", logger: logger)
            try await c.query("INSERT INTO df_mnist.ds_ofilters VALUES (1, 'blur')", logger: logger)
        }
        let later = try await run(e, "select filter_name from ds_ofilters", scope: mnist)
        XCTAssertEqual(later.rows, [[.text("blur")]])
    }

    // MARK: - Concurrency

    func testTooManyRequests() async throws {
        let e = try engine(workers: 1, maxWaiting: 1)
        let first = Task { try await self.run(e, "select pg_sleep(1)") }
        try await Task.sleep(for: .milliseconds(200))
        let second = Task { try await self.run(e, "select pg_sleep(0.1)") }
        try await Task.sleep(for: .milliseconds(200))
        let third = await failure(e, "select 1")
        XCTAssertEqual(third?.kind, .tooManyRequests)
        _ = try await first.value
        _ = try await second.value
        let after = try await run(e, "select 1")
        XCTAssertEqual(after.rows, [[.integer(1)]])
    }

    func testWaitingIsBoundedByTheTimeout() async throws {
        let e = try engine(workers: 1, maxWaiting: 4)
        let first = Task { try await self.run(e, "select pg_sleep(1.5)") }
        try await Task.sleep(for: .milliseconds(200))
        let start = ContinuousClock.now
        let waited = await failure(e, "select 1", timeout: .milliseconds(300))
        XCTAssertEqual(waited?.kind, .timeout)
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1))
        _ = try await first.value
        let after = try await run(e, "select 1")
        XCTAssertEqual(after.rows, [[.integer(1)]])
    }
}

import DNNProvModel
import DNNProvPostgres
import DNNProvStore
import Foundation
import Logging
import XCTest
import DNNProvTestSupport

/// `dnnprov migrate` and the store's `StoreMigration`: SQLite -> PostgreSQL -> SQLite gives the
/// same answers to the seeds' queries, the same runs and listings; an interrupted migration
/// (kill -9) finishes when run again, without duplicates or loss; a target holding other
/// provenance is refused. PostgreSQL legs run when DNNPROV_TEST_POSTGRES_URL is set.
final class MigrateTests: XCTestCase {
    private let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The AlexNet flow of the seeds through the HTTP API (keys, summaries, dependencies), a
    /// NaN and a token: the source every migration test starts from.
    private func alexnetSource() async throws -> TestDatabase {
        let db = try TestDatabase(backend: .sqlite)
        try await withLiveServer(database: db.location) { api in
            try await api.post("/api/v1/dataflows", json: AlexNet.spec, expect: .created)
            for r in AlexNet.runs.indices {
                for batch in AlexNet.batches(run: r) {
                    try await api.post("/api/v1/batch", json: ["events": batch], expect: .ok)
                }
            }
        }
        let store = try db.open()
        defer { store.close() }
        _ = try await store.register(SmallFlow.spec("mnist"))
        _ = try await store.ingest([
            TaskEvent(dataflow: "mnist", execution: "nan-run", transformation: "trainingmodel", task: "1",
                      sets: [ElementSet(tag: "otrainingmodel", elements: [[.number(.nan), .number(1)], [.number(0.5), .number(2)]])]),
        ])
        _ = try await store.createToken(TokenRequest(role: .reader, name: "analyst"))
        return db
    }

    /// Seed 000 and seed 003's Q1-Q8 (docs/queries.md), with the runs' training task ids.
    private func seedQueries(training: [Int64]) -> [String] {
        [
            """
            select trainingmodel_task_id as MODEL_ID, max(accuracy) as ACCURACY, min(loss) as LOSS
              from ds_otrainingmodel where trainingmodel_task_id=1 or trainingmodel_task_id=3
              group by trainingmodel_task_id order by 1;
            """,
            """
            select trainingmodel_task_id, round(accuracy, 3) as accuracy, epoch,
              round(accuracy - lag(accuracy, 1) OVER (ORDER BY id), 3) as diff_with_previous_acc
              from ds_otrainingmodel order by id;
            """,
            """
            select trainingmodel_task_id as modelid, avg(elapsed_time) as average_time,
              round(max(elapsed_time),3) as max_time, round(min(elapsed_time),3) as min_time
              from ds_otrainingmodel group by trainingmodel_task_id order by 1;
            """,
            "select loss from ds_otrainingmodel where trainingmodel_task_id = \(training[1]) and epoch = 10;",
            """
            select name, type, activation, units, filters, kernel_size, strides, padding, dropout_rate
            from ds_ilayers where trainingmodel_task_id = \(training[1]) order by id;
            """,
            "select epoch, elapsed_time, loss from ds_otrainingmodel where trainingmodel_task_id = \(training[2]) order by epoch;",
            """
            select i.trainingmodel_task_id, i.learning_rate from ds_itrainingmodel i
            where i.trainingmodel_task_id = (select trainingmodel_task_id from ds_otrainingmodel order by accuracy desc limit 1);
            """,
            """
            select i.trainingmodel_task_id, i.optimizer_name, i.learning_rate, i.num_epochs, i.batch_size,
                   max(o.accuracy) as best_accuracy
            from ds_itrainingmodel i join ds_otrainingmodel o on o.trainingmodel_task_id = i.trainingmodel_task_id
            group by i.trainingmodel_task_id, i.optimizer_name, i.learning_rate, i.num_epochs, i.batch_size
            order by best_accuracy desc limit 3;
            """,
            """
            select a.epoch_id as epoch, a.new_lrate as learning_rate, a.adaptation_id
            from ds_oadaptation a join task_dependency d on d.task_id = a.adaptation_task_id
            where d.previous_task_id = (select trainingmodel_task_id from ds_otrainingmodel order by accuracy desc limit 1)
            order by a.epoch_id;
            """,
            """
            select distinct f.filter_name from ds_ofilters f
            join ds_ilayers l on l.trainingmodel_task_id = f.trainingmodel_task_id where l.dropout_rate = 0.4;
            """,
            """
            with acc as (
              select trainingmodel_task_id as t, max(accuracy) as accuracy, max(epoch) as epochs
              from ds_otrainingmodel group by trainingmodel_task_id)
            select coalesce(f.filter_name, 'none') as filter_name, acc.accuracy, acc.epochs
            from acc left join ds_ofilters f on f.trainingmodel_task_id = acc.t
            where acc.accuracy = (select max(accuracy) from acc) or acc.accuracy = (select min(accuracy) from acc)
            order by acc.accuracy desc;
            """,
            "select count(*) as n, count(adaptation_task_id) as adapted, count(testingmodel_task_id) as tested from ds_otrainingmodel",
            "select accuracy from ds_otestingmodel order by id",
            "select id, identifier, dt_id, df_exec, status, start_time, end_time from task order by id",
            "select id, tag, start_time, end_time from dataflow_execution order by id",
        ]
    }

    /// A result as comparable text: numbers to 9 significant digits (an integer and a real of
    /// the same value are the same answer), column names in lower case.
    private func normalized(_ r: QueryResult) -> [[String]] {
        [r.columns.map { $0.name.lowercased() }] + r.rows.map { row in
            row.map { v in
                switch v {
                case .null: return "null"
                case .integer(let i): return String(format: "%.9g", Double(i))
                case .real(let d): return d.isNaN ? "NaN" : String(format: "%.9g", d)
                case .text(let s): return s
                case .blob(let b): return b.base64EncodedString()
                }
            }
        }
    }

    /// Everything the tests compare between two stores.
    private func answers(_ store: ProvStore, training: [Int64]) async throws -> [String: [[String]]] {
        var all: [String: [[String]]] = [:]
        for (i, sql) in seedQueries(training: training).enumerated() {
            all["q\(i)"] = normalized(try await store.query(sql, options: QueryOptions(dataflow: "alexnet")))
        }
        all["nan"] = normalized(try await store.query("select loss, epoch from ds_otrainingmodel order by id",
                                                      options: QueryOptions(dataflow: "mnist")))
        let runs = try await store.runs(of: "alexnet")
        all["runs"] = [[String(decoding: try JSONEncoder.sortedForTests.encode(runs.runs), as: UTF8.self)], ["\(runs.seq)"]]
        all["dataflows"] = try await store.dataflows().map { [$0.tag, "\($0.id)", "\($0.version)"] }.sorted { $0[0] < $1[0] }
        all["tasks"] = try await store.tasks(of: "alexnet").map { [String(decoding: try JSONEncoder.sortedForTests.encode($0), as: UTF8.self)] }
        all["tokens"] = try await store.tokens().map { ["\($0.id)", $0.name, "\($0.role)"] }
        return all
    }

    private func migrate(_ from: ProvStore, _ to: ProvStore) async throws -> MigrationSummary {
        try await StoreMigration(from: from, to: to, chunkRows: 37).run()
    }

    func testSQLiteToPostgresToSQLiteAnswersTheSame() async throws {
        let source = try await alexnetSource()
        let middle = try TestDatabase.postgresServer == nil ? TestDatabase(backend: .sqlite) : TestDatabase(backend: .postgres)
        let last = try TestDatabase(backend: .sqlite)

        let s = try source.open(readOnly: true)
        defer { s.close() }
        let trainings = try await s.query("""
            select t.id from task t join data_transformation dt on dt.id = t.dt_id
            join dataflow_execution e on e.id = t.df_exec join dataflow d on d.id = e.df_id
            where dt.tag = 'trainingmodel' and d.tag = 'alexnet' order by e.tag
            """, options: QueryOptions(dataflow: "alexnet"))
        let training: [Int64] = trainings.rows.map { if case .integer(let i) = $0[0] { return i }; return -1 }
        XCTAssertEqual(training.count, 3)
        let expected = try await answers(s, training: training)
        XCTAssertEqual(expected["nan"]?.dropFirst().first, ["NaN", "1"])

        do {
            let m = try middle.open()
            let summary = try await migrate(s, m)
            XCTAssertEqual(summary.dataflows, 2)
            m.close()
        }
        let m = try middle.open()
        defer { m.close() }
        let second = try await answers(m, training: training)
        for key in expected.keys.sorted() { XCTAssertEqual(second[key], expected[key], "\(key) on \(m.backend)") }

        do {
            let l = try last.open()
            _ = try await migrate(m, l)
            l.close()
        }
        let l = try last.open()
        defer { l.close() }
        let third = try await answers(l, training: training)
        for key in expected.keys.sorted() { XCTAssertEqual(third[key], expected[key], "\(key) after the round trip") }

        // The targets go on: new ids come after the copied ones (identity sequences, row ids).
        for store in [m, l] {
            _ = try await store.register(SmallFlow.spec("after"))
            _ = try await store.ingest(SmallFlow.events("after", epochs: 3))
            _ = try await store.ingest(SmallFlow.events("mnist", epochs: 2, execution: "later"))
            let token = try await store.createToken(TokenRequest(role: .reader, name: "new"))
            XCTAssertGreaterThan(token.token.id, 1)
            let ids = try await store.query("select count(*), count(distinct id) from ds_otrainingmodel", options: QueryOptions(dataflow: "mnist"))
            XCTAssertEqual(ids.rows.first?[0], ids.rows.first?[1])
            let flows = try await store.dataflows().map(\.tag).sorted()
            XCTAssertEqual(flows, ["after", "alexnet", "mnist"])
            let runs = try await store.runs(of: "after")
            XCTAssertGreaterThan(runs.seq, Int64(expected["runs"]![1][0])!, "live numbers go on after the source's")
        }
    }

    func testTargetWithOtherProvenanceIsRefused() async throws {
        let source = try await alexnetSource()
        let target = try TestDatabase(backend: .sqlite)
        do {
            let t = try target.open()
            _ = try await t.register(SmallFlow.spec("mine"))
            t.close()
        }
        let s = try source.open(readOnly: true)
        defer { s.close() }
        let t = try target.open()
        do {
            _ = try await StoreMigration(from: s, to: t).run()
            XCTFail("a target holding provenance must be refused")
        } catch let e as MigrationError {
            XCTAssertEqual(e.description, "the target already holds provenance; migrate into an empty database")
        }
        t.close()
        let cli = try DNNProvBinary.run(["migrate", "--from", source.location, "--to", target.location])
        XCTAssertEqual(cli.status, 1)
        XCTAssertTrue(cli.stderr.contains("error: the target already holds provenance; migrate into an empty database"), cli.stderr)
    }

    func testKilledMigrationResumesWithoutDuplicatesOrLoss() async throws {
        try await resumeAfterKill(to: TestDatabase(backend: .sqlite))
    }

    func testKilledMigrationToPostgresResumes() async throws {
        guard TestDatabase.postgresServer != nil else { throw XCTSkip("DNNPROV_TEST_POSTGRES_URL is not set") }
        try await resumeAfterKill(to: TestDatabase(backend: .postgres))
    }

    /// Migrates a source of many rows in a child process, kills it (-9) once it has copied some
    /// of the big set, runs it again, and checks every row is there once.
    private func resumeAfterKill(to target: TestDatabase) async throws {
        let source = try TestDatabase(backend: .sqlite)
        let rowsPerRun = 20_000, runs = 3
        do {
            let store = try source.open()
            _ = try await store.register(SmallFlow.spec("bigflow"))
            for r in 0..<runs {
                let events = SmallFlow.events("bigflow", epochs: rowsPerRun, execution: "run-\(r)")
                for start in stride(from: 0, to: events.count, by: 5_000) {
                    _ = try await store.ingest(Array(events[start..<min(start + 5_000, events.count)]))
                }
            }
            store.close()
        }

        let process = Process()
        process.executableURL = DNNProvBinary.url
        process.arguments = ["migrate", "--from", source.location, "--to", target.location, "--batch-rows", "300",
                             "--progress-interval", "0.02"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        let log = LockedLog()
        err.fileHandleForReading.readabilityHandler = { h in log.append(h.availableData) }
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        var killed = false
        while Date() < deadline && process.isRunning {
            // Some rows of the big set, not all: kill it there.
            if log.text.split(separator: "\n").contains(where: { $0.contains("bigflow.otrainingmodel ") && !$0.contains("otrainingmodel 0/") }) {
                kill(process.processIdentifier, SIGKILL)
                killed = true
                break
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        err.fileHandleForReading.readabilityHandler = nil
        XCTAssertTrue(killed, "the migration ended before it could be killed: \(log.text)")
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)

        let again = try DNNProvBinary.run(["migrate", "--from", source.location, "--to", target.location])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("already copied by an earlier run"), again.stdout)
        // The second run copied only what the first had not: some rows, not all of them.
        let copiedNow = again.stdout.components(separatedBy: " copied now").first?.split(separator: " ").last.flatMap { Int($0) }
        XCTAssertNotNil(copiedNow, again.stdout)
        XCTAssertGreaterThan(copiedNow ?? 0, 0, again.stdout)
        XCTAssertLessThan(copiedNow ?? .max, rowsPerRun * runs, again.stdout)
        // Once complete, running it again changes nothing.
        let thrice = try DNNProvBinary.run(["migrate", "--from", source.location, "--to", target.location])
        XCTAssertEqual(thrice.status, 0, thrice.stderr)
        XCTAssertTrue(thrice.stdout.contains("0 copied now"), thrice.stdout)

        let s = try source.open(readOnly: true), t = try target.open(readOnly: true)
        defer { s.close(); t.close() }
        let check = "select count(*) as n, count(distinct id) as ids, sum(epoch) as epochs, sum(loss) as loss from ds_otrainingmodel"
        let a = try await s.query(check, options: QueryOptions(dataflow: "bigflow"))
        let b = try await t.query(check, options: QueryOptions(dataflow: "bigflow"))
        XCTAssertEqual(normalized(a), normalized(b))
        XCTAssertEqual(normalized(b)[1][0], String(format: "%.9g", Double(rowsPerRun * runs)))
        XCTAssertEqual(normalized(b)[1][0], normalized(b)[1][1])
        for table in ["task", "dataflow_execution", "run_summary", "data_set", "attribute"] {
            let sql = "select count(*) as n from \(table)"
            let x = try await s.query(sql, options: QueryOptions(dataflow: "bigflow"))
            let y = try await t.query(sql, options: QueryOptions(dataflow: "bigflow"))
            XCTAssertEqual(normalized(x), normalized(y), table)
        }
    }
}

/// Bytes a child process writes, gathered from its pipe's handler thread.
private final class LockedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}

extension JSONEncoder {
    static var sortedForTests: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}

import Foundation
import XCTest
import DNNProvTestSupport

/// `/api/v1`: idempotent batches, bad input answered with 4xx and a message (and nothing
/// stored), restart on the same file, schema evolution.
final class BatchAPITests: XCTestCase {
    func testSameBatchTwiceIsStoredOnce() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("/api/v1/dataflows", json: SmallFlow.spec, expect: .created)
            let batch = ["events": (1...5).map { SmallFlow.event(key: "c1-\($0)", rows: [[1.0 / Double($0), $0]]) }]
            let first = try await api.post("/api/v1/batch", json: batch)
            XCTAssertEqual(first.object["stored"] as? Int, 5)
            let again = try await api.post("/api/v1/batch", json: batch)
            XCTAssertEqual(again.status, .ok)
            XCTAssertEqual(again.object["stored"] as? Int, 0)
            XCTAssertEqual(again.object["duplicates"] as? Int, 5)
            let n = try await api.query("select count(*) as n from ds_otrainingmodel", dataflow: "mnist")
            XCTAssertEqual(n.ints("n"), [5])
        }
    }

    func testBadInputGetsA4xxWithAMessageAndChangesNothing() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("/api/v1/dataflows", json: SmallFlow.spec, expect: .created)
            try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "ok-1", rows: [[0.5, 1]])]], expect: .ok)
            let before = try await Self.snapshot(api)

            func expect(_ r: APIResponse, _ status: Int, _ words: [String], file: StaticString = #filePath, line: UInt = #line) {
                XCTAssertEqual(Int(r.status.code), status, r.text, file: file, line: line)
                for w in words { XCTAssertTrue(r.error.lowercased().contains(w.lowercased()), "'\(w)' not in: \(r.error)", file: file, line: line) }
            }
            expect(try await api.request(.post, "/api/v1/batch", body: "{\"events\": [ {\"dataflow\": "), 400, ["malformed"])
            expect(try await api.request(.post, "/api/v1/batch", body: ""), 400, ["empty"])
            expect(try await api.request(.post, "/api/v1/batch", body: "{\"events\": [{\"dataflow\": \"mnist\"}]}"), 400, ["transformation", "events[0]"])
            expect(try await api.post("/api/v1/batch", json: ["events": [
                SmallFlow.event(key: "k1", rows: [[0.1, 2]]),
                ["dataflow": "nope", "execution": "x", "transformation": "trainingmodel", "task": "1"],
            ]]), 404, ["unknown dataflow", "nope", "event 1"])
            expect(try await api.post("/api/v1/batch", json: ["events": [
                ["dataflow": "mnist", "execution": "x", "transformation": "testing", "task": "1"]]]), 404, ["unknown transformation", "testing"])
            expect(try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "k2", set: "oother", rows: [[1]])]]),
                   404, ["unknown set", "oother"])
            expect(try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "k3", rows: [[0.1, 2, 3]])]]),
                   422, ["2 attributes", "3 values"])
            expect(try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "k4", rows: [["fast", 2]])]]),
                   422, ["loss", "not a number"])
            expect(try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "k5", status: "DONE", rows: [])]]),
                   400, ["status", "DONE"])
            expect(try await api.post("/api/v1/dataflows", json: ["tag": "bad tag!", "transformations": []]), 400, ["dataflow tag"])
            expect(try await api.post("/api/v1/dataflows", json: ["tag": "mnist", "transformations": [["tag": "trainingmodel", "sets": [
                ["tag": "otrainingmodel", "type": "OUTPUT", "attributes": [["name": "LOSS", "type": "TEXT"]]]]]]]),
                   409, ["loss", "numeric"])
            expect(try await api.post("/api/v1/dataflows", json: ["tag": "mnist", "transformations": [["tag": "t", "sets": [
                ["tag": "x", "type": "INPUT", "dependency": "ghost"]]]]]), 404, ["ghost"])
            let huge = String(repeating: " ", count: 33 * 1024 * 1024)
            expect(try await api.request(.post, "/api/v1/batch", body: "{\"events\": []}" + huge), 413, ["larger than"])
            expect(try await api.get("/api/v1/dataflows/nope/tasks"), 404, ["nope"])
            expect(try await api.get("/api/v1/dataflows/mnist/sets/otrainingmodel/rows?limit=abc"), 400, ["limit"])

            // Queries that would write are refused before they run.
            for sql in [
                "INSERT INTO task(identifier, dt_id, df_exec, status) VALUES ('x', 1, 1, 'RUNNING')",
                "UPDATE ds_otrainingmodel SET loss = 0", "DELETE FROM task", "DROP TABLE task",
                "ATTACH DATABASE '/tmp/x.sqlite' AS x", "PRAGMA journal_mode = DELETE", "PRAGMA user_version = 7",
                "CREATE TABLE t(x)", "select 1; drop table task", "WITH x AS (SELECT 1) DELETE FROM task",
                "VACUUM", "REPLACE INTO task(id) VALUES (1)",
            ] {
                let r = try await api.post("/api/v1/query", json: ["sql": sql, "dataflow": "mnist"])
                XCTAssertTrue([400, 403].contains(Int(r.status.code)), "\(sql) -> \(r.status) \(r.text)")
                XCTAssertFalse(r.error.isEmpty, sql)
            }
            // The database's words ("no such table", "does not exist"), naming the table.
            expect(try await api.post("/api/v1/query", json: ["sql": "select * from no_such_table"]), 400, ["no_such_table"])
            expect(try await api.post("/api/v1/query", json: ["sql": "select 1", "dataflow": "ghost"]), 404, ["ghost"])

            let after = try await Self.snapshot(api)
            XCTAssertEqual(before, after, "bad input changed what is stored")
        }
    }

    /// What the API shows (dataflows, their sets and attributes, executions, tasks), the rows of
    /// every set and of every global table queries read: equal snapshots mean nothing changed.
    private static func snapshot(_ api: LiveAPI) async throws -> [String] {
        var out = [try await api.get("/api/v1/dataflows").text]
        let globals = ["dataflow", "dataflow_version", "data_transformation", "program", "use_program", "data_set",
                       "data_dependency", "attribute", "dataflow_execution", "task", "task_dependency", "file",
                       "performance", "idempotency_key", "refused_row", "run_summary", "saved_chart"]
        for table in globals {
            out.append("\(table): \(try await api.query("select count(*) as n from \(table)", dataflow: nil).ints("n"))")
        }
        let dataflows = try await api.get("/api/v1/dataflows").array.compactMap { ($0 as? [String: Any])?["tag"] as? String }
        for tag in dataflows.sorted() {
            let sets = try await api.get("/api/v1/dataflows/\(tag)/sets")
            out.append(sets.text)
            out.append(try await api.get("/api/v1/dataflows/\(tag)/executions").text)
            out.append(try await api.get("/api/v1/dataflows/\(tag)/tasks").text)
            for set in sets.array.compactMap({ ($0 as? [String: Any])?["tag"] as? String }) {
                out.append("\(tag).\(set): \(try await api.query("select count(*) as n from ds_\(set)", dataflow: tag).ints("n"))")
            }
        }
        return out
    }

    /// Rows may name their attributes: an older client, or one that knows only some of them,
    /// cannot shift values into the wrong columns.
    func testRowsNamingTheirAttributes() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("/api/v1/dataflows", json: SmallFlow.spec, expect: .created)
            var e = SmallFlow.event(key: "n1", rows: [[3, 0.125], [4, NSNull()]])
            e["sets"] = [["tag": "otrainingmodel", "attributes": ["EPOCH", "loss"], "elements": [[3, 0.125], [4, NSNull()]]]]
            var partial = SmallFlow.event(key: "n2", rows: [])
            partial["sets"] = [["tag": "otrainingmodel", "attributes": ["epoch"], "elements": [[5]]]]
            try await api.post("/api/v1/batch", json: ["events": [e, partial]], expect: .ok)
            let rows = try await api.query("select epoch, loss from ds_otrainingmodel order by id", dataflow: "mnist")
            XCTAssertEqual(rows.doubles("epoch"), [3, 4, 5])
            XCTAssertEqual(rows.doubles("loss"), [0.125, nil, nil])
            var bad = SmallFlow.event(key: "n3", rows: [])
            bad["sets"] = [["tag": "otrainingmodel", "attributes": ["epoch", "accuracy"], "elements": [[6, 0.5]]]]
            let r = try await api.post("/api/v1/batch", json: ["events": [bad]], expect: .unprocessableContent)
            XCTAssertTrue(r.error.contains("no attribute 'accuracy'"), r.error)
        }
    }

    func testNonFiniteNumbersAreKept() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("/api/v1/dataflows", json: SmallFlow.spec, expect: .created)
            let r = try await api.post("/api/v1/batch", json: ["events": [
                SmallFlow.event(key: "n1", rows: [["NaN", 1], ["Infinity", 2], ["-inf", 3], [NSNull(), 4], ["1e-3", 5]])]])
            XCTAssertEqual(r.status, .ok, r.text)
            let rows = try await api.query("select loss from ds_otrainingmodel order by id", dataflow: "mnist")
            XCTAssertEqual(rows.count, 5)
            guard rows.count == 5 else { return }
            XCTAssertEqual(rows.column("loss")[0] as? String, "NaN")
            XCTAssertEqual(rows.column("loss")[1] as? String, "Infinity")
            XCTAssertEqual(rows.column("loss")[2] as? String, "-Infinity")
            XCTAssertTrue(rows.column("loss")[3] is NSNull)
            XCTAssertEqual(rows.doubles("loss")[4], 0.001)
            // A finite number stays a number in the answer (not text).
            XCTAssertFalse(rows.column("loss")[4] is String)
        }
    }

    func testQueryLimitAndTimeout() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            let limited = try await api.post("/api/v1/query", json: [
                "sql": "with recursive n(i) as (select 1 union all select i + 1 from n where i < 100) select i from n", "limit": 10])
            XCTAssertEqual((limited.object["rows"] as? [Any])?.count, 10)
            XCTAssertEqual(limited.object["truncated"] as? Bool, true)
            let slow = try await api.post("/api/v1/query", json: [
                "sql": "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n", "timeout_ms": 300])
            XCTAssertEqual(slow.status, .requestTimeout, slow.text)
            XCTAssertTrue(slow.error.contains("time limit"), slow.error)
            // The server still answers.
            let health = try await api.get("/health")
            XCTAssertEqual(health.status, .ok)
        }
    }

    func testRestartKeepsEverythingAndARunningTaskContinues() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("/api/v1/dataflows", json: SmallFlow.spec, expect: .created)
            let r = try await api.post("/api/v1/batch", json: ["events": [
                SmallFlow.event(key: "a1", set: "itrainingmodel", rows: [["adam"]]),
                SmallFlow.event(key: "a2", rows: [[0.9, 1], [0.5, 2]]),
            ]])
            XCTAssertEqual(r.status, .ok, r.text)
        }
        try await withLiveServer(database: db.location) { api in
            let spec = try await api.get("/api/v1/dataflows/mnist")
            XCTAssertEqual((spec.object["transformations"] as? [Any])?.count, 1, "the specification survived the restart")
            let r = try await api.post("/api/v1/batch", json: ["events": [
                SmallFlow.event(key: "a2", rows: [[0.9, 1], [0.5, 2]]),      // a replay after the restart
                SmallFlow.event(key: "a3", rows: [[0.25, 3]]),
                SmallFlow.event(key: "a4", status: "FINISHED", rows: []),
            ]])
            XCTAssertEqual(r.object["duplicates"] as? Int, 1, r.text)
            let rows = try await api.query("select trainingmodel_task_id as t, epoch from ds_otrainingmodel order by id", dataflow: "mnist")
            XCTAssertEqual(rows.doubles("epoch"), [1, 2, 3])
            XCTAssertEqual(Set(rows.ints("t")).count, 1, "the task continued: same task after the restart")
            let tasks = try await api.get("/api/v1/dataflows/mnist/tasks?execution=run-1")
            XCTAssertEqual(tasks.array.count, 1)
            XCTAssertEqual((tasks.array.first as? [String: Any])?["status"] as? String, "FINISHED")
        }
    }

    func testSchemaEvolvesInPlace() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("/api/v1/dataflows", json: SmallFlow.spec, expect: .created)
            try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "e1", rows: [[0.7, 1], [0.6, 2]])]], expect: .ok)

            // Between executions the user adds a Filters activity and a validation metric.
            let extended: [String: Any] = ["tag": "MNIST", "transformations": [
                ["tag": "Filters", "sets": [["tag": "oFilters", "type": "OUTPUT", "attributes": AlexNet.attrs([("FILTER_NAME", "TEXT")])]]],
                ["tag": "TrainingModel", "sets": [
                    ["tag": "oFilters", "type": "INPUT", "dependency": "Filters"],
                    ["tag": "oTrainingModel", "type": "OUTPUT", "attributes": AlexNet.attrs([
                        ("LOSS", "NUMERIC"), ("EPOCH", "NUMERIC"), ("VAL_ACCURACY", "NUMERIC")])],
                ]],
            ]]
            let reg = try await api.post("/api/v1/dataflows", json: extended)
            XCTAssertEqual(reg.status, .ok, reg.text)
            XCTAssertEqual(reg.object["version"] as? Int, 2)
            let again = try await api.post("/api/v1/dataflows", json: extended)
            XCTAssertEqual(again.object["changed"] as? Bool, false, "the same specification again changes nothing")

            let r = try await api.post("/api/v1/batch", json: ["events": [
                ["key": "f1", "dataflow": "mnist", "execution": "run-2", "transformation": "filters", "task": "0", "status": "FINISHED",
                 "sets": [["tag": "ofilters", "elements": [["grayscale"]]]]],
                ["key": "e2", "dataflow": "mnist", "execution": "run-2", "transformation": "trainingmodel", "task": "1",
                 "dependencies": [["transformation": "filters", "task": "0"]],
                 "sets": [["tag": "otrainingmodel", "elements": [[0.4, 1, 0.8]]]]],
            ]])
            XCTAssertEqual(r.status, .ok, r.text)
            let rows = try await api.query("select loss, epoch, val_accuracy from ds_otrainingmodel order by id", dataflow: "mnist")
            XCTAssertEqual(rows.doubles("loss"), [0.7, 0.6, 0.4])
            XCTAssertEqual(rows.doubles("val_accuracy"), [nil, nil, 0.8])
            let q8 = try await api.query("""
                select o.epoch, f.filter_name from ds_otrainingmodel o join ds_ofilters f on f.trainingmodel_task_id = o.trainingmodel_task_id
                """, dataflow: "mnist")
            XCTAssertEqual(q8.strings("filter_name"), ["grayscale"])
            let versions = try await api.query("select version from dataflow_version order by version", dataflow: nil)
            XCTAssertEqual(versions.ints("version"), [1, 2])
            // An old-style 2-value row no longer fits: the error names the new attribute count.
            let old = try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "e3", execution: "run-3", rows: [[0.3, 1]])]])
            XCTAssertEqual(old.status, .unprocessableContent)
        }
    }

    func testDataflowsAreSeparateNamespaces() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("/api/v1/dataflows", json: SmallFlow.spec, expect: .created)
            var other = SmallFlow.spec
            other["tag"] = "cifar-10"
            try await api.post("/api/v1/dataflows", json: other, expect: .created)
            var e = SmallFlow.event(key: "x1", rows: [[9.0, 1]])
            e["dataflow"] = "cifar-10"
            try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "m1", rows: [[1.0, 1]]), e]], expect: .ok)
            let mnist = try await api.query("select loss from ds_otrainingmodel", dataflow: "mnist")
            XCTAssertEqual(mnist.doubles("loss"), [1.0])
            let cifar = try await api.query("select loss from otrainingmodel", dataflow: "cifar-10")
            XCTAssertEqual(cifar.doubles("loss"), [9.0])
            let both = try await api.query("""
                select a.loss as a, b.loss as b from mnist.ds_otrainingmodel a, "cifar-10".ds_otrainingmodel b
                """, dataflow: nil)
            XCTAssertEqual(both.doubles("a"), [1.0])
            XCTAssertEqual(both.doubles("b"), [9.0])
            let ambiguous = try await api.post("/api/v1/query", json: ["sql": "select * from ds_otrainingmodel"])
            XCTAssertEqual(ambiguous.status, .badRequest, "two dataflows: an unqualified name needs a dataflow")
        }
    }
}

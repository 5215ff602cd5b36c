import DNNProvPostgres
import DNNProvModel
import DNNProvServer
import DNNProvStore
import Foundation
import XCTest
import DNNProvTestSupport

/// The edge cases the original DfAnalyzer libraries hit when run unmodified (issue 7, item 5),
/// through the real router: names DfAnalyzer took, the C++ text format, refused rows, re-sent
/// rows, and tasks begun again.
final class DfAnalyzerEdgeCaseTests: XCTestCase {
    // MARK: helpers

    /// A Keras-Prov-like flow: TrainingModel (iTrainingModel in, oTrainingModel out), Adaptation
    /// (oTrainingModel in, oAdaptation out), TestingModel (oTrainingModel in, oTestingModel out).
    static func spec(_ tag: String = "alexnet", training: [(String, String)] = [("LOSS", "NUMERIC"), ("EPOCH", "NUMERIC")]) -> [String: Any] {
        ["tag": tag, "transformations": [
            ["tag": "TrainingModel", "sets": [
                ["tag": "iTrainingModel", "type": "INPUT", "attributes": AlexNet.attrs([("OPTIMIZER_NAME", "TEXT"), ("LEARNING_RATE", "NUMERIC")])],
                ["tag": "oTrainingModel", "type": "OUTPUT", "attributes": AlexNet.attrs(training)]]],
            ["tag": "Adaptation", "sets": [
                ["tag": "oTrainingModel", "type": "INPUT", "dependency": "TrainingModel"],
                ["tag": "oAdaptation", "type": "OUTPUT", "attributes": AlexNet.attrs([("NEW_LRATE", "NUMERIC"), ("EPOCH_ID", "NUMERIC")])]]],
            ["tag": "TestingModel", "sets": [
                ["tag": "oTrainingModel", "type": "INPUT", "dependency": "TrainingModel"],
                ["tag": "oTestingModel", "type": "OUTPUT", "attributes": AlexNet.attrs([("ACCURACY", "NUMERIC")])]]],
        ]]
    }

    /// A task message as the clients build it: variant A names no execution; `exec` makes it B.
    static func task(_ id: String, _ transformation: String, _ status: String = "RUNNING", dataflow: String = "alexnet",
                     exec: String? = nil, dependsOn: String? = nil, sets: [(String, [[Any]])] = []) -> [String: Any] {
        var body: [String: Any] = [
            "id": id, "dataflow": dataflow, "transformation": transformation, "status": status,
            // Variant A sends one set entry per element, the same tag again for each.
            "sets": sets.flatMap { tag, rows in rows.map { ["tag": tag, "elements": [$0]] } },
        ]
        if let exec { body["exec"] = exec; body["first"] = id == "1" ? "1" : "0" }
        if let dependsOn { body["dependency"] = ["tags": [["tag": "trainingmodel"]], "ids": [["id": dependsOn]]] }
        return body
    }

    // MARK: names (issue 7, item 5: `mnist.v2`, `VAL-LOSS`, `top-5`, tags over 55 characters)

    func testNamesWithDotsAndDashesEndToEnd() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            let longSet = "o" + String(repeating: "x", count: 69)
            var spec = Self.spec("MNIST.v2", training: [("VAL-LOSS", "NUMERIC"), ("top-5", "NUMERIC"), ("EPOCH", "NUMERIC")])
            var transformations = spec["transformations"] as! [[String: Any]]
            transformations.append(["tag": "post-process.v1", "sets": [
                ["tag": longSet, "type": "OUTPUT", "attributes": AlexNet.attrs([("score.max", "NUMERIC")])]]])
            spec["transformations"] = transformations
            try await api.post("//pde/dataflow/json", json: spec, expect: .ok)
            try await api.post("/pde/dataflow/json", json: Self.spec("alexnet"), expect: .ok)

            try await api.post("//pde/task/json", json: Self.task("1", "trainingmodel", dataflow: "mnist.v2",
                                                                  sets: [("otrainingmodel", [["0.5", "0.9", "1"], ["0.25", "0.95", "2"]])]), expect: .ok)
            try await api.post("//pde/task/json", json: Self.task("1", "post-process.v1", "FINISHED", dataflow: "MNIST.v2",
                                                                  sets: [(longSet, [["7"]])]), expect: .ok)

            // The seeds' queries, with quoted identifiers, unqualified in the chosen dataflow ...
            let rows = try await api.query(#"select "val-loss", "top-5", epoch, trainingmodel_task_id from ds_otrainingmodel order by id"#,
                                           dataflow: "mnist.v2")
            XCTAssertEqual(rows.columns, ["val-loss", "top-5", "epoch", "trainingmodel_task_id"])
            XCTAssertEqual(rows.doubles("val-loss"), [0.5, 0.25])
            XCTAssertEqual(rows.doubles("top-5"), [0.9, 0.95])
            let view = try await api.query(#"select "val-loss" from otrainingmodel"#, dataflow: "MNIST.v2")
            XCTAssertEqual(view.count, 2)
            // ... and qualified, from anywhere.
            let qualified = try await api.query(#"select "top-5" from "mnist.v2".ds_otrainingmodel order by id"#, dataflow: "alexnet")
            XCTAssertEqual(qualified.doubles("top-5"), [0.9, 0.95])
            let long = try await api.query(#"select "post-process.v1_task_id", "score.max" from "mnist.v2".ds_\#(longSet)"#, dataflow: nil)
            XCTAssertEqual(long.doubles("score.max"), [7])
            XCTAssertEqual(long.count, 1)

            // The user's names everywhere; the physical table a safe identifier.
            let sets = try await api.query("""
                select ds.tag, ds.table_name from data_set ds join dataflow df on df.id = ds.df_id
                where df.tag = 'mnist.v2' and ds.tag = 'otrainingmodel'
                """, dataflow: nil)
            // (PostgreSQL writes it qualified by the schema of the data tables: `dnnprov_data.…`.)
            XCTAssertEqual(sets.strings("table_name").map { $0?.split(separator: ".").last.map(String.init) }, ["mnist_v2__ds_otrainingmodel"])
            let attrs = try await api.query("""
                select a.name from attribute a join data_set ds on ds.id = a.ds_id join dataflow df on df.id = ds.df_id
                where df.tag = 'mnist.v2' and ds.tag = 'otrainingmodel' order by a.position
                """, dataflow: nil)
            XCTAssertEqual(attrs.strings("name"), ["val-loss", "top-5", "epoch"])
            let list = try await api.get("/api/dataflows/list")
            XCTAssertEqual(Set(list.array.compactMap { ($0 as? [String: Any])?["tag"] as? String }), ["mnist.v2", "alexnet"])
            let described = try await api.get("/api/v1/dataflows/MNIST.v2/sets")
            XCTAssertEqual(described.status, .ok, described.text)
            XCTAssertTrue(described.text.contains("\"val-loss\"") && described.text.contains(longSet), described.text)
            let page = try await api.get("/api/v1/dataflows/mnist.v2/sets/otrainingmodel/rows")
            XCTAssertEqual(page.status, .ok, page.text)
            XCTAssertEqual((page.object["rows"] as? [[Any]])?.count, 2)

            // Still refused: quotes, control characters, spaces, the sqlite_ prefix, empty names.
            for bad in ["a\"b", "a'b", "a b", "sqlite_stats", ""] {
                var s = Self.spec("k")
                s["transformations"] = [["tag": "t", "sets": [["tag": "o", "type": "OUTPUT", "attributes": AlexNet.attrs([(bad, "TEXT")])]]]]
                let r = try await api.post("/pde/dataflow/json", json: s)
                XCTAssertEqual(r.status, .badRequest, "\(bad): \(r.text)")
            }
        }
    }

    // MARK: unqualified names (issue 7, item 2)

    func testUnqualifiedSetNamesResolveWhenOneDataflowHasThem() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("/pde/dataflow/json", json: Self.spec("alexnet"), expect: .ok)
            try await api.post("/pde/dataflow/json", json: Self.spec("vgg"), expect: .ok)
            try await api.post("/pde/dataflow/json", json: ["tag": "alexnet", "transformations": [["tag": "filters", "sets": [
                ["tag": "oFilters", "type": "OUTPUT", "attributes": AlexNet.attrs([("KERNEL", "NUMERIC")])]]]]], expect: .ok)
            try await api.post("/pde/task/json", json: Self.task("1", "filters", "FINISHED", sets: [("ofilters", [["3"], ["5"]])]), expect: .ok)

            // Only alexnet has ofilters: no "dataflow" needed.
            let rows = try await api.query("select kernel from ds_ofilters order by id", dataflow: nil)
            XCTAssertEqual(rows.doubles("kernel"), [3, 5])
            let got1 = try await api.query("select count(*) as n from ofilters", dataflow: nil).ints("n")
            XCTAssertEqual(got1, [2])

            // Both have otrainingmodel: the error names them and says how to choose.
            let ambiguous = try await api.queryResponse("select * from ds_otrainingmodel", dataflow: nil)
            XCTAssertEqual(ambiguous.status, .badRequest)
            for part in ["no such table: ds_otrainingmodel", "'alexnet'", "'vgg'", #""dataflow": "alexnet""#, "alexnet.ds_otrainingmodel"] {
                XCTAssertTrue(ambiguous.error.contains(part), "\(part) missing: \(ambiguous.error)")
            }
            // A dataflow chosen that lacks the set: the error says which one has it.
            let elsewhere = try await api.queryResponse("select * from ds_ofilters", dataflow: "vgg")
            XCTAssertEqual(elsewhere.status, .badRequest)
            XCTAssertTrue(elsewhere.error.contains("'alexnet'") && elsewhere.error.contains("alexnet.ds_ofilters"), elsewhere.error)
            // Other errors are left as they were.
            // (The database's own words: SQLite "no such table: ds_nowhere", PostgreSQL
            // 'relation "ds_nowhere" does not exist'.)
            let unknown = try await api.queryResponse("select * from ds_nowhere", dataflow: nil)
            XCTAssertEqual(unknown.status, .badRequest)
            XCTAssertTrue(unknown.error.contains("ds_nowhere") && !unknown.error.contains("dataflow"), unknown.error)
        }
    }

    // MARK: text format (issue 7, item 5: the C++ library's `}{`)

    func testTextFormatCollectionsWithoutSeparators() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            let spec = """
                dataflow(df)
                dataset(itrain, {lr}, {NUMERIC})
                dataset(otrain, {epoch;loss}, {NUMERIC;NUMERIC})
                transformation(train, {itrain}, {otrain})
                """
            try await api.request(.post, "/pde/dataflow", body: spec, contentType: nil, expect: .ok)
            let task = """
                task(df, train, 1, 0, RUNNING)
                collection(otrain,{{1;0.5}{2;0.4}})
                collection(otrain, {{3;0.3} {4;0.2}; {5;0.1}})
                collection(itrain,{{0.01}})
                """
            try await api.request(.post, "/pde/task", body: task, contentType: nil, expect: .ok)
            let rows = try await api.query("select epoch, loss from ds_otrain order by id", dataflow: "df")
            XCTAssertEqual(rows.doubles("epoch"), [1, 2, 3, 4, 5])
            XCTAssertEqual(rows.doubles("loss"), [0.5, 0.4, 0.3, 0.2, 0.1])
            let got2 = try await api.query("select lr from ds_itrain", dataflow: "df").doubles("lr")
            XCTAssertEqual(got2, [0.01])
            // Windows line ends: "\r\n" is one Character in Swift, so lines must split on isNewline.
            let crlf = "task(df, train, 2, 0, RUNNING)\r\ncollection(otrain,{{6;0.05}})\r\n"
            try await api.request(.post, "/pde/task", body: crlf, contentType: nil, expect: .ok)
            let all = try await api.query("select epoch from ds_otrain order by id", dataflow: "df")
            XCTAssertEqual(all.doubles("epoch"), [1, 2, 3, 4, 5, 6])
        }
    }

    // MARK: refused rows (issue 7, item 5: one bad row blocked every later message of a variant-A task)

    func testVariantAKeepsEveryValidRowAndRecordsTheRefusedOnes() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("//pde/dataflow/json", json: Self.spec(), expect: .ok)
            // Variant A re-sends the task's whole list on each message; epoch 2's loss is 'abc',
            // a later row holds True, another a value too many.
            var sent: [[Any]] = []
            func save(_ row: [Any], _ status: String = "RUNNING") async throws -> APIResponse {
                if !row.isEmpty { sent.append(row) }
                let r = try await api.post("//pde/task/json", json: Self.task("1", "trainingmodel", status, sets: [("otrainingmodel", sent)]))
                XCTAssertEqual(r.status, .ok, r.text)
                return r
            }
            _ = try await save(["2.0", "1"])
            let bad = try await save(["abc", "2"])
            XCTAssertTrue((bad.object["warnings"] as? [String] ?? []).contains { $0.contains("refused_row") && $0.contains("'abc'") }, bad.text)
            _ = try await save(["1.0", "3"])
            _ = try await save(["True", "4"])
            _ = try await save(["0.5", "5", "99"])
            _ = try await save(["0.25", "6"])
            _ = try await save([], "FINISHED")

            let rows = try await api.query("select loss, epoch from ds_otrainingmodel order by id")
            XCTAssertEqual(rows.doubles("epoch"), [1, 3, 6], "every valid row is stored once")
            let task = try await api.query("select status from task")
            XCTAssertEqual(task.strings("status"), ["FINISHED"])

            let refused = try await api.query("""
                select r.set_tag, r.task_id, r.row_values, r.reason, r.received_at, t.identifier
                from refused_row r join task t on t.id = r.task_id order by r.id
                """)
            XCTAssertEqual(refused.count, 3, "each refused row is kept once, however often it is re-sent")
            XCTAssertEqual(refused.strings("set_tag"), ["otrainingmodel", "otrainingmodel", "otrainingmodel"])
            XCTAssertEqual(refused.strings("identifier"), ["1", "1", "1"])
            XCTAssertEqual(refused.strings("row_values"), [#"["abc","2"]"#, #"["True","4"]"#, #"["0.5","5","99"]"#])
            let reasons = refused.strings("reason").map { $0 ?? "" }
            XCTAssertTrue(reasons[0].contains("'abc' is not a number") && reasons[0].contains("loss"), reasons[0])
            XCTAssertTrue(reasons[2].contains("a row has 3 values"), reasons[2])
            XCTAssertNotNil(refused.strings("received_at")[0])

            // A set the task cannot add to is refused row by row too; the task's other rows are stored.
            let r = try await api.post("//pde/task/json", json: Self.task("3", "testingmodel", "FINISHED", dependsOn: "1",
                                                                          sets: [("otestingmodel", [["0.9"]]), ("oadaptation", [["0.1", "1"]])]))
            XCTAssertEqual(r.status, .ok, r.text)
            let got3 = try await api.query("select accuracy from ds_otestingmodel").doubles("accuracy")
            XCTAssertEqual(got3, [0.9])
            let got4 = try await api.query("select count(*) as n from refused_row where set_tag = 'oadaptation'").ints("n")
            XCTAssertEqual(got4, [1])

            // The batch endpoint stays all-or-nothing.
            let batch = try await api.post("/api/v1/batch", json: ["events": [
                ["dataflow": "alexnet", "execution": "e2", "transformation": "trainingmodel", "task": "1",
                 "sets": [["tag": "otrainingmodel", "elements": [[1.0, 1], ["abc", 2]]]]]]])
            XCTAssertEqual(batch.status, .unprocessableContent, batch.text)
            let got5 = try await api.query("select count(*) as n from dataflow_execution where tag = 'e2'").ints("n")
            XCTAssertEqual(got5, [0])
            let got6 = try await api.query("select count(*) as n from refused_row").ints("n")
            XCTAssertEqual(got6, [4])
        }
    }

    /// refused_row and dfa_sent are scoped like the other global tables: a reader scoped to one
    /// dataflow sees only its rows.
    func testRefusedRowsAreScopedByDataflow() async throws {
        let db = try TestDatabase()
        let store = try ProvStore.open(db.location)
        defer { store.close() }
        let scoped = try await store.createToken(TokenRequest(role: .reader, dataflows: ["alexnet"])).secret
        let app = try buildApplication(store: store, configuration: ServerConfiguration(port: 0, auth: .required))
        let writer = try await store.createToken(TokenRequest(role: .writer)).secret
        try await app.test(.router) { client in
            let api = LiveAPI(client: client)
            for tag in ["alexnet", "secret"] {
                let spec = try JSONSerialization.data(withJSONObject: Self.spec(tag))
                let r = try await api.request(.post, "/pde/dataflow/json", body: String(decoding: spec, as: UTF8.self), token: writer)
                XCTAssertEqual(r.status, .ok, r.text)
                let task = try JSONSerialization.data(withJSONObject: Self.task("1", "trainingmodel", dataflow: tag,
                                                                                sets: [("otrainingmodel", [["x-\(tag)", "1"], ["0.5", "2"]])]))
                let t = try await api.request(.post, "/pde/task/json", body: String(decoding: task, as: UTF8.self), token: writer)
                XCTAssertEqual(t.status, .ok, t.text)
            }
            let own = try await api.query("select row_values from refused_row", dataflow: nil, token: scoped)
            XCTAssertEqual(own.strings("row_values"), [#"["x-alexnet","1"]"#])
            // The re-send bookkeeping is internal: no query reads it.
            let sent = try await api.queryResponse("select count(*) as n from dfa_sent", dataflow: nil, token: scoped)
            XCTAssertEqual(sent.status, .forbidden, sent.text)
            // Nor can the global table be named around the scope (SQLite's `main`, PostgreSQL's `dnnprov`).
            let global = TestDatabase.backend == .postgres ? "dnnprov" : "main"
            let main = try await api.queryResponse("select * from \(global).refused_row", dataflow: nil, token: scoped)
            XCTAssertEqual(main.status, .forbidden, main.text)
        }
    }

    // MARK: re-sent rows (issue 7, item 5: identical rows collapsed into one)

    func testIdenticalRowsAreStoredTwiceResentOnesAreNot() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("/pde/dataflow/json", json: Self.spec(), expect: .ok)
            // Variant A: two identical rows in one message, then the list again with one more.
            try await api.post("//pde/task/json", json: Self.task("1", "trainingmodel", sets: [("otrainingmodel", [["0.5", "1"], ["0.5", "1"]])]), expect: .ok)
            let again = try await api.post("//pde/task/json", json: Self.task("1", "trainingmodel",
                                                                               sets: [("otrainingmodel", [["0.5", "1"], ["0.5", "1"], ["0.5", "1"]])]), expect: .ok)
            XCTAssertEqual(again.object["rows"] as? Int, 1, again.text)
            XCTAssertEqual(again.object["resentRows"] as? Int, 2, again.text)
            try await api.post("//pde/task/json", json: Self.task("1", "trainingmodel", "FINISHED",
                                                                  sets: [("otrainingmodel", [["0.5", "1"], ["0.5", "1"], ["0.5", "1"]])]), expect: .ok)
            let got7 = try await api.query("select count(*) as n from ds_otrainingmodel").ints("n")
            XCTAssertEqual(got7, [3])

            // Variants B and C: the same row saved twice on purpose is two rows; end() re-sends the last.
            let exec = "alexnet-2026-11-25 10:00:00.000001"
            for status in ["RUNNING", "RUNNING", "FINISHED"] {
                try await api.post("//pde/task/json", json: Self.task("1", "trainingmodel", status, exec: exec,
                                                                      sets: [("otrainingmodel", [["0.7", "9"]])]), expect: .ok)
            }
            let b = try await api.query("""
                select count(*) as n from ds_otrainingmodel o join task t on t.id = o.trainingmodel_task_id
                join dataflow_execution e on e.id = t.df_exec where e.tag = '\(exec)'
                """)
            XCTAssertEqual(b.ints("n"), [2])
        }
    }

    // MARK: tasks begun again (issue 7, item 5: Keras-Prov re-creates Task(2) per adaptation)

    /// Variant A: Keras-Prov makes a new `Task(2)` (Adaptation, depending on the training task) for
    /// each learning-rate change while training runs. The second one split the run in two: a
    /// training task RUNNING forever, another FINISHED without a start time, epochs stored twice.
    func testVariantAReCreatingAFinishedTaskKeepsOneRun() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("//pde/dataflow/json", json: Self.spec(), expect: .ok)
            var epochs: [[Any]] = []
            func epoch(_ n: Int, _ status: String = "RUNNING") async throws {
                if n > 0 { epochs.append([String(1.0 / Double(n)), String(n)]) }
                try await api.post("//pde/task/json", json: Self.task("1", "trainingmodel", status,
                                                                      sets: [("itrainingmodel", [["adam", "0.001"]]), ("otrainingmodel", epochs)]), expect: .ok)
            }
            func adaptation(_ lr: String, _ epoch: String) async throws {
                // A new Task object: begin, then end with its one row.
                try await api.post("//pde/task/json", json: Self.task("2", "adaptation", dependsOn: "1"), expect: .ok)
                try await api.post("//pde/task/json", json: Self.task("2", "adaptation", "FINISHED", dependsOn: "1",
                                                                      sets: [("oadaptation", [[lr, epoch]])]), expect: .ok)
            }
            try await epoch(0)
            try await epoch(1)
            try await adaptation("0.0005", "1")
            try await epoch(2)
            try await adaptation("0.00025", "2")
            try await epoch(3)
            try await epoch(0, "FINISHED")
            try await api.post("//pde/task/json", json: Self.task("3", "testingmodel", dependsOn: "1"), expect: .ok)
            try await api.post("//pde/task/json", json: Self.task("3", "testingmodel", "FINISHED", dependsOn: "1",
                                                                  sets: [("otestingmodel", [["0.8"]])]), expect: .ok)

            let got8 = try await api.query("select count(*) as n from dataflow_execution").ints("n")
            XCTAssertEqual(got8, [1], "one script run is one execution")
            let tasks = try await api.query("select identifier, status, start_time, end_time from task order by identifier")
            XCTAssertEqual(tasks.strings("identifier"), ["1", "2", "3"])
            XCTAssertEqual(tasks.strings("status"), ["FINISHED", "FINISHED", "FINISHED"])
            XCTAssertFalse(tasks.strings("start_time").contains(nil), "\(tasks.rows)")
            XCTAssertFalse(tasks.strings("end_time").contains(nil), "\(tasks.rows)")
            let otm = try await api.query("select epoch, adaptation_task_id, testingmodel_task_id from ds_otrainingmodel order by id")
            XCTAssertEqual(otm.doubles("epoch"), [1, 2, 3], "epochs stored once")
            let got9 = try await api.query("select count(*) as n from ds_itrainingmodel").ints("n")
            XCTAssertEqual(got9, [1])
            let adapt = try await api.query("select new_lrate, epoch_id from ds_oadaptation order by id")
            XCTAssertEqual(adapt.doubles("epoch_id"), [1, 2], "each adaptation's row")
            XCTAssertFalse(otm.ints("testingmodel_task_id").contains(nil))
        }
    }

    /// Variant B re-using a task: its end time is the last end, not the first.
    func testVariantBReusingATaskMovesItsEndTime() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("//pde/dataflow/json", json: Self.spec(), expect: .ok)
            let exec = "alexnet-2026-11-25 09:00:00.000001"
            try await api.post("//pde/task/json", json: Self.task("1", "trainingmodel", exec: exec,
                                                                  sets: [("otrainingmodel", [["1.0", "1"]])]), expect: .ok)
            func adaptation(_ lr: String, _ epoch: String) async throws -> (status: String?, end: String?) {
                try await api.post("//pde/task/json", json: Self.task("2", "adaptation", exec: exec, dependsOn: "1"), expect: .ok)
                let running = try await api.query("select status, end_time from task where identifier = '2'")
                XCTAssertEqual(running.strings("status"), ["RUNNING"], "begun again, it runs")
                try await Task.sleep(for: .milliseconds(20))
                try await api.post("//pde/task/json", json: Self.task("2", "adaptation", "FINISHED", exec: exec, dependsOn: "1",
                                                                      sets: [("oadaptation", [[lr, epoch]])]), expect: .ok)
                let t = try await api.query("select status, end_time from task where identifier = '2'")
                return (t.strings("status")[0], t.strings("end_time")[0])
            }
            let first = try await adaptation("0.0005", "1")
            try await api.post("//pde/task/json", json: Self.task("1", "trainingmodel", exec: exec,
                                                                  sets: [("otrainingmodel", [["0.5", "2"]])]), expect: .ok)
            let second = try await adaptation("0.00025", "2")
            XCTAssertEqual(first.status, "FINISHED")
            XCTAssertEqual(second.status, "FINISHED")
            XCTAssertGreaterThan(second.end ?? "", first.end ?? "~", "the end time is the last end's")
            let got10 = try await api.query("select count(*) as n from task").ints("n")
            XCTAssertEqual(got10, [2])
            let got11 = try await api.query("select epoch_id from ds_oadaptation order by id").doubles("epoch_id")
            XCTAssertEqual(got11, [1, 2])
        }
    }
}

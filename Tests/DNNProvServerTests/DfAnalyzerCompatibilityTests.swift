import Foundation
import XCTest
import DNNProvTestSupport

/// What the three DfAnalyzer client variants really send (shared/fixtures/dfanalyzer) produces
/// the rows the fixtures' README lists, and so does the text format.
final class DfAnalyzerCompatibilityTests: XCTestCase {
    func testVariantA() async throws { try await replay("A") }
    func testVariantB() async throws { try await replay("B") }
    func testVariantC() async throws {
        try await replay("C") { api in
            let e = try await api.query("select email, hardware from dataflow_execution")
            XCTAssertEqual(e.strings("email"), ["someone@example.org"])
            XCTAssertTrue(e.strings("hardware")[0]?.contains("trainer-01") ?? false)
        }
    }

    private func replay(_ variant: String, extra: ((LiveAPI) async throws -> Void)? = nil) async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            for call in try Fixtures.calls(variant) {
                XCTAssertTrue(call.path.hasPrefix("//"), "the fixtures use the clients' double slash")
                // Old clients send `application/text` or nothing; the body is read as JSON anyway.
                let data = try JSONSerialization.data(withJSONObject: call.body)
                let r = try await api.request(.post, call.path, body: String(decoding: data, as: UTF8.self), contentType: "application/text")
                XCTAssertEqual(r.status, .ok, "\(call.path): \(r.text)")
            }
            let itm = try await api.query("select optimizer_name, learning_rate from ds_itrainingmodel")
            XCTAssertEqual(itm.strings("optimizer_name"), ["adam"])
            XCTAssertEqual(itm.doubles("learning_rate"), [0.001])

            let otm = try await api.query("""
                select trainingmodel_task_id, adaptation_task_id, testingmodel_task_id, elapsed_time, loss, accuracy, epoch
                from ds_otrainingmodel order by id
                """)
            XCTAssertEqual(otm.doubles("epoch"), [1, 2, 3], "re-sent elements are the stored rows, not new ones")
            XCTAssertEqual(otm.doubles("elapsed_time"), [11.5, 12.5, 13.5])
            XCTAssertEqual(otm.doubles("loss")[2]!, 2.0 / 3.0, accuracy: 1e-12)
            XCTAssertEqual(otm.doubles("accuracy")[2]!, 0.9, accuracy: 1e-12)

            let tasks = try await api.query("""
                select t.id, t.identifier, dt.tag, t.status from task t join data_transformation dt on dt.id = t.dt_id order by t.identifier
                """)
            XCTAssertEqual(tasks.strings("identifier"), ["1", "2", "3"])
            XCTAssertEqual(tasks.strings("tag"), ["trainingmodel", "adaptation", "testingmodel"])
            XCTAssertEqual(Set(tasks.strings("status").map { $0! }), ["FINISHED"])
            let ids = tasks.ints("id")
            XCTAssertEqual(Set(otm.ints("trainingmodel_task_id")), [ids[0]])
            XCTAssertEqual(Set(otm.ints("adaptation_task_id")), [ids[1]])
            XCTAssertEqual(Set(otm.ints("testingmodel_task_id")), [ids[2]])

            let adapt = try await api.query("select adaptation_task_id, new_lrate, epoch_id, adaptation_id from ds_oadaptation")
            XCTAssertEqual(adapt.doubles("new_lrate"), [0.0005])
            XCTAssertEqual(adapt.doubles("epoch_id"), [2])
            XCTAssertEqual(adapt.doubles("adaptation_id"), [1])
            let test = try await api.query("select loss, accuracy from ds_otestingmodel")
            XCTAssertEqual(test.doubles("loss"), [0.8])
            XCTAssertEqual(test.doubles("accuracy"), [0.7])

            let deps = try await api.query("select task_id, previous_task_id from task_dependency order by task_id")
            XCTAssertEqual(deps.ints("task_id"), [ids[1], ids[2]])
            XCTAssertEqual(deps.ints("previous_task_id"), [ids[0], ids[0]])
            let execs = try await api.query("select count(*) as n from dataflow_execution")
            XCTAssertEqual(execs.ints("n"), [1], "one script run is one execution")

            // The viewer endpoints.
            let list = try await api.get("//api/dataflows/list")
            XCTAssertEqual(list.array.count, 1)
            XCTAssertEqual((list.array.first as? [String: Any])?["tag"] as? String, "alexnet")
            let graph = try await api.get("/api/dataflows/\((list.array.first as? [String: Any])?["id"] as? Int ?? 0)")
            let g = graph.object["graph"] as? [String: Any] ?? [:]
            let nodes = g["nodes"] as? [[String: Any]] ?? []
            XCTAssertEqual(Set(nodes.compactMap { $0["label"] as? String }), ["itrainingmodel", "otrainingmodel", "oadaptation", "otestingmodel"])
            let otmNode = nodes.first { $0["label"] as? String == "otrainingmodel" }
            XCTAssertEqual(otmNode?["title"] as? String, "(timestamp,elapsed_time,loss,accuracy,epoch)")
            XCTAssertEqual(otmNode?["shape"] as? String, "box")
            let edges = g["edges"] as? [[String: Any]] ?? []
            XCTAssertTrue(edges.contains { $0["label"] as? String == "adaptation" && $0["from"] as? Int == otmNode?["id"] as? Int })
            let attrs = graph.object["allAttrsMap"] as? [String: [String: Any]] ?? [:]
            XCTAssertEqual(attrs.count, 4)
            XCTAssertEqual((attrs["\(otmNode?["id"] as? Int ?? 0)"]?["atts"] as? [[String: String]])?.first?["name"], "timestamp")

            try await extra?(api)
        }
    }

    func testTextFormat() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            let spec = """
                dataflow(alexnet)
                program(train, /runs/train.py)
                dataset(itrainingmodel, {optimizer_name;learning_rate}, {TEXT;NUMERIC})
                dataset(otrainingmodel, {loss;epoch}, {NUMERIC;NUMERIC})
                dataset(otestingmodel, {accuracy}, {NUMERIC})
                transformation(trainingmodel, {itrainingmodel}, {otrainingmodel}, {train})
                transformation(testingmodel, {otrainingmodel}, {otestingmodel})
                """
            let r = try await api.request(.post, "//pde/dataflow", body: spec, contentType: nil)
            XCTAssertEqual(r.status, .ok, r.text)
            let t1 = """
                task(alexnet, trainingmodel, 1, 0, RUNNING, /runs, local)
                collection(itrainingmodel, {{adam;0.001}})
                collection(otrainingmodel, {{2.5;1};{1.25;2}})
                file(model.h5, /runs/1)
                """
            try await api.request(.post, "/pde/task", body: t1, contentType: "application/text", expect: .ok)
            try await api.request(.post, "/pde/task", body: "task(alexnet, trainingmodel, 1, 0, FINISHED)", contentType: nil, expect: .ok)
            let t3 = """
                task(alexnet, testingmodel, 3, 0, FINISHED)
                dependency({trainingmodel},{1})
                collection(otestingmodel, {{0.75}})
                """
            try await api.request(.post, "/pde/task", body: t3, contentType: nil, expect: .ok)

            let rows = try await api.query("select trainingmodel_task_id, testingmodel_task_id, loss, epoch from ds_otrainingmodel order by id")
            XCTAssertEqual(rows.doubles("loss"), [2.5, 1.25])
            XCTAssertEqual(rows.doubles("epoch"), [1, 2])
            XCTAssertEqual(Set(rows.ints("testingmodel_task_id").map { $0 != nil }), [true], "the testing task consumed the rows")
            let files = try await api.query("select name, path from file")
            XCTAssertEqual(files.strings("name"), ["model.h5"])
            let tasks = try await api.query("select status, workspace, computing_resource from task order by id")
            XCTAssertEqual(tasks.strings("status"), ["FINISHED", "FINISHED"])
            XCTAssertEqual(tasks.strings("workspace")[0], "/runs")
            let programs = try await api.query("select p.name, p.path from program p join use_program u on u.program_id = p.id")
            XCTAssertEqual(programs.strings("path"), ["/runs/train.py"])

            let bad = try await api.request(.post, "/pde/task", body: "task(alexnet, trainingmodel, 1, 0, EXPLODED)", contentType: nil)
            XCTAssertEqual(bad.status, .badRequest)
            XCTAssertTrue(bad.error.contains("EXPLODED"), bad.error)
        }
    }

    /// Keras-Prov without validation data sends 5 values where the spec has 7 attributes;
    /// DfAnalyzer dropped those rows. dnnprov keeps them and says so.
    func testShortRowsAreKeptOnDfAnalyzerEndpoints() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            let spec: [String: Any] = ["tag": "k", "transformations": [["tag": "trainingmodel", "sets": [
                ["tag": "otrainingmodel", "type": "OUTPUT", "attributes": AlexNet.attrs([
                    ("LOSS", "NUMERIC"), ("EPOCH", "NUMERIC"), ("VAL_LOSS", "NUMERIC")])]]]]]
            try await api.post("/pde/dataflow/json", json: spec, expect: .ok)
            let r = try await api.post("/pde/task/json", json: [
                "id": "1", "dataflow": "k", "transformation": "trainingmodel", "status": "RUNNING",
                "sets": [["tag": "otrainingmodel", "elements": [["0.5", "1"]]]]])
            XCTAssertEqual(r.status, .ok, r.text)
            XCTAssertTrue(((r.object["warnings"] as? [String])?.first ?? "").contains("val_loss"), r.text)
            let rows = try await api.query("select loss, epoch, val_loss from ds_otrainingmodel", dataflow: "k")
            XCTAssertEqual(rows.doubles("loss"), [0.5])
            XCTAssertEqual(rows.doubles("val_loss"), [nil])
            // Too many values is not stored: old clients never read answers, so the row is kept
            // in refused_row with its reason, and the answer's warnings say so.
            let long = try await api.post("/pde/task/json", json: [
                "id": "1", "dataflow": "k", "transformation": "trainingmodel",
                "sets": [["tag": "otrainingmodel", "elements": [["0.5", "1", "2", "3"]]]]])
            XCTAssertEqual(long.status, .ok, long.text)
            XCTAssertTrue(((long.object["warnings"] as? [String])?.first ?? "").contains("refused_row"), long.text)
            let got1 = try await api.query("select count(*) as n from ds_otrainingmodel", dataflow: "k").ints("n")
            XCTAssertEqual(got1, [1])
            let refused = try await api.query("select reason from refused_row", dataflow: "k")
            XCTAssertTrue(refused.strings("reason").first??.contains("a row has 4 values") ?? false, "\(refused.rows)")
        }
    }
}

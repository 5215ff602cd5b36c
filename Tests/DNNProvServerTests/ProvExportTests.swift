import DNNProvModel
import DNNProvStore
import Foundation
import XCTest
import DNNProvTestSupport

/// W3C PROV export, import and lineage over HTTP (docs/prov-mapping.md), on the seeds' AlexNet
/// flow with its Filters activity, adaptations and tests.
final class ProvExportTests: XCTestCase {
    static func load(_ api: LiveAPI) async throws {
        let reg = try await api.post("/api/v1/dataflows", json: AlexNet.spec)
        XCTAssertEqual(reg.status, .created, reg.text)
        for r in AlexNet.runs.indices {
            for batch in AlexNet.batches(run: r) {
                let ack = try await api.post("/api/v1/batch", json: ["events": batch])
                XCTAssertEqual(ack.status, .ok, ack.text)
            }
        }
    }

    static func count(_ api: LiveAPI, _ sql: String) async throws -> Int {
        let r = try await api.query(sql)
        return try XCTUnwrap(r.ints("n").first ?? nil).map(Int.init) ?? 0
    }

    func testEveryFormatWithItsMediaType() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await Self.load(api)
            let expected = [("prov-json", "application/json", "{\"prefix\""), ("prov-n", "text/provenance-notation", "document"),
                            ("prov-o", "text/turtle", "@prefix prov:"), ("dot", "text/vnd.graphviz", "digraph")]
            for (format, type, start) in expected {
                let r = try await api.client.execute(uri: "/api/v1/dataflows/alexnet/prov?format=\(format)&execution=alexnet-run2", method: .get) { $0 }
                XCTAssertEqual(r.status, .ok, format)
                XCTAssertTrue(r.headers[.contentType]?.hasPrefix(type) ?? false, "\(format): \(r.headers[.contentType] ?? "")")
                XCTAssertTrue(String(buffer: r.body).hasPrefix(start), format)
            }
            let dot = try await api.get("/api/v1/dataflows/alexnet/prov?format=dot&execution=alexnet-run2").text
            XCTAssertTrue(dot.contains("shape=house") == false, "no agents without execution info")
            XCTAssertTrue(dot.contains("fillcolor=\"#FFFC87\"") && dot.contains("fillcolor=\"#9FB1FC\""))
        }
    }

    func testPROVJSONCountsMatchTheStore() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await Self.load(api)
            let doc = try await api.get("/api/v1/dataflows/alexnet/prov").object
            let rows = try await Self.count(api, """
                select (select count(*) from ds_ofilters) + (select count(*) from ds_itrainingmodel) + (select count(*) from ds_ilayers)
                  + (select count(*) from ds_otrainingmodel) + (select count(*) from ds_iadaptation) + (select count(*) from ds_oadaptation)
                  + (select count(*) from ds_otestingmodel) as n
                """)
            // Collections: one per set and run with rows (7 sets in runs with a filter, 6 without).
            let collections = AlexNet.runs.map { $0.filter == nil ? 6 : 7 }.reduce(0, +)
            XCTAssertEqual((doc["entity"] as? [String: Any])?.count, 1 + collections + rows)
            let tasks = try await Self.count(api, "select count(*) as n from task")
            XCTAssertEqual((doc["activity"] as? [String: Any])?.count, AlexNet.runs.count + tasks)
            let generated = try await Self.count(api, "select (select count(*) from ds_ofilters) + (select count(*) from ds_otrainingmodel) + (select count(*) from ds_oadaptation) + (select count(*) from ds_otestingmodel) as n")
            XCTAssertEqual((doc["wasGeneratedBy"] as? [String: Any])?.count, generated)
            XCTAssertEqual((doc["hadMember"] as? [String: Any])?.count, rows)
            let dependencies = try await Self.count(api, "select count(*) as n from task_dependency")
            XCTAssertEqual((doc["wasInformedBy"] as? [String: Any])?.count, dependencies)
            // Typed literals.
            let entities = doc["entity"] as? [String: [String: Any]] ?? [:]
            let epoch = try XCTUnwrap(entities.first { $0.key.hasPrefix("d:el-otrainingmodel-") }?.value)
            XCTAssertEqual((epoch["attr:loss"] as? [String: Any])?["type"] as? String, "xsd:double")
            XCTAssertEqual((epoch["attr:timestamp"] as? [String: Any])?["type"] as? String, "xsd:string")
        }
    }

    func testLineageAnswersQ6AndQ8() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await Self.load(api)
            // Q8: the worst training (rmsprop, grayscale): back from its best row to the filter.
            let worst = try await api.query("""
                select id from ds_otrainingmodel where trainingmodel_task_id = (
                  select trainingmodel_task_id from ds_itrainingmodel where optimizer_name = 'rmsprop') order by accuracy desc limit 1
                """).ints("id")[0]!
            let back = try await api.get("/api/v1/dataflows/alexnet/lineage?set=otrainingmodel&id=\(worst)&direction=back").object
            let nodes = back["nodes"] as? [[String: Any]] ?? []
            let filter = nodes.first { $0["set"] as? String == "ofilters" }
            XCTAssertEqual((filter?["values"] as? [String: Any])?["filter_name"] as? String, "grayscale")
            XCTAssertTrue(nodes.contains { ($0["values"] as? [String: Any])?["optimizer_name"] as? String == "rmsprop" })
            // Q6: the best training (adam): forward from its best row to the adaptations.
            let best = try await api.query("select id from ds_otrainingmodel order by accuracy desc limit 1").ints("id")[0]!
            let forward = try await api.get("/api/v1/dataflows/alexnet/lineage?set=otrainingmodel&id=\(best)&direction=forward").object
            let rates = (forward["nodes"] as? [[String: Any]] ?? []).filter { $0["set"] as? String == "oadaptation" }
                .compactMap { ($0["values"] as? [String: Any])?["new_lrate"] as? Double }.sorted()
            XCTAssertEqual(rates, [AlexNet.newRate(0, adaptation: 2), AlexNet.newRate(0, adaptation: 1)])
            let edges = forward["edges"] as? [[String: String]] ?? []
            XCTAssertTrue(edges.contains { $0["relation"] == "wasDerivedFrom" && $0["to"] == "el-otrainingmodel-\(best)" })
            // Errors.
            for (path, status) in [("lineage?set=otrainingmodel&id=999999", 404), ("lineage?set=nope&id=1", 404), ("lineage?set=otrainingmodel", 400),
                                   ("prov?format=rdfxml", 400), ("prov?execution=nope", 404), ("prov?task=999999", 404)] {
                let r = try await api.get("/api/v1/dataflows/alexnet/\(path)")
                XCTAssertEqual(Int(r.status.code), status, path)
            }
        }
    }

    func testExportImportExportIsEquivalent() async throws {
        let db = try TestDatabase(), other = try TestDatabase()
        let first = try await withLiveServer(database: db.location) { api in
            try await Self.load(api)
            return try await api.get("/api/v1/dataflows/alexnet/prov").text
        }
        let (second, again) = try await withLiveServer(database: other.location) { api in
            let imported = try await api.request(.post, "/api/v1/prov", body: first)
            XCTAssertEqual(imported.status, .created, imported.text)
            let second = try await api.get("/api/v1/dataflows/alexnet/prov").text
            let again = try await api.request(.post, "/api/v1/prov", body: first).object
            return (second, again)
        }
        XCTAssertEqual(again["duplicates"] as? Int, again["tasks"] as? Int)
        func shape(_ text: String) throws -> [String: Int] {
            let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            return doc.compactMapValues { ($0 as? [String: Any])?.count }
        }
        XCTAssertEqual(try shape(second), try shape(first))
        func values(_ text: String) throws -> [String] {
            let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            let entities = doc["entity"] as? [String: [String: Any]] ?? [:]
            return try entities.filter { $0.key.hasPrefix("d:el-") }.values.map {
                String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self)
            }.sorted()
        }
        XCTAssertEqual(try values(second), try values(first))
    }
}

@testable import DNNProvClient
import DNNProvPostgres
import DNNProvModel
import DNNProvStore
import Foundation
import XCTest
import DNNProvTestSupport

final class EncodingTests: XCTestCase {
    private func event(_ rows: [[Value]]) -> TaskEvent {
        TaskEvent(dataflow: "alexnet", execution: "run \"1\"", transformation: "trainingmodel", task: "1", status: .running,
                  time: 1_764_061_200.125, dependencies: [TaskRef(transformation: "filters", task: "f")],
                  sets: [ElementSet(tag: "otrainingmodel", elements: rows)], files: [FileRef(name: "m.keras", path: "/runs/1")],
                  executionInfo: ExecutionInfo(user: "me", host: "gpu\t01", hardware: "{\"gpus\": 0}"), error: "line1\nline2\u{1}")
    }

    func testEventsEncodeToTheWireFormat() throws {
        let items: [QueueItem] = [.event(event([[.number(2.5), .number(3), .text("é\\"), .null, .number(.nan), .number(-.infinity)]]))]
        let records = Record.encode(items, base: 7, clientID: "c", batchSize: 10)
        XCTAssertEqual(records.count, 1)
        let body = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(records[0].body)) as? [String: Any])
        XCTAssertEqual(body["seq"] as? Int, 7)
        let e = try XCTUnwrap((body["events"] as? [[String: Any]])?.first)
        XCTAssertEqual(e["key"] as? String, "c-7")
        XCTAssertEqual(e["execution"] as? String, "run \"1\"")
        XCTAssertEqual(e["time"] as? Double, 1_764_061_200.125)
        XCTAssertEqual(e["error"] as? String, "line1\nline2\u{1}")
        let row = try XCTUnwrap(((e["sets"] as? [[String: Any]])?.first?["elements"] as? [[Any]])?.first)
        XCTAssertEqual(row[0] as? Double, 2.5)
        XCTAssertEqual(row[1] as? Int, 3)
        XCTAssertEqual(row[2] as? String, "é\\")
        XCTAssertTrue(row[3] is NSNull)
        XCTAssertEqual(row[4] as? String, "NaN")
        XCTAssertEqual(row[5] as? String, "-Infinity")
        XCTAssertEqual((e["execution_info"] as? [String: Any])?["host"] as? String, "gpu\t01")
        XCTAssertEqual(records[0].values, 6)
    }

    /// The client's hand-written JSON is read by the server's own decoder (the model's
    /// BatchRequest) into exactly the events captured: one wire contract.
    func testTheServerDecoderReadsWhatTheClientWrites() throws {
        var events = [event([[.number(2.5), .number(3), .text("é\\\"\u{0}"), .null]]), event([])]
        events[1].status = .failed
        events[1].time = nil
        events[1].sets = [ElementSet(tag: "itrainingmodel", attributes: ["optimizer_name"], elements: [[.text("adam")]])]
        events[1].executionInfo = ExecutionInfo(script: "train.py", email: "me@example.org", hardware: "not json")
        let records = Record.encode(events.map { .event($0) }, base: 3, clientID: "client", batchSize: 10)
        XCTAssertEqual(records.count, 1)
        let decoded = try JSONDecoder().decode(BatchRequest.self, from: Data(records[0].body))
        for (i, e) in events.enumerated() { events[i].key = "client-\(3 + i)"; _ = e }
        XCTAssertEqual(decoded.events, events)
        // Non-finite numbers travel as the strings the server reads as numbers.
        let odd = Record.encode([.event(event([[.number(.nan), .number(.infinity)]]))], base: 0, clientID: "c", batchSize: 1)
        let row = try JSONDecoder().decode(BatchRequest.self, from: Data(odd[0].body)).events[0].sets[0].elements[0]
        XCTAssertEqual(row, [.text("NaN"), .text("Infinity")])
        XCTAssertTrue(try row[0].numeric()?.isNaN ?? false)
        XCTAssertEqual(try row[1].numeric(), .infinity)
        // And what the model encodes, the server decodes alike.
        let again = try JSONDecoder().decode(BatchRequest.self, from: JSONEncoder().encode(decoded))
        XCTAssertEqual(again, decoded)
    }

    func testBatchesAreCutBySizeAndAtRegistrations() throws {
        let spec = DataflowBuilder.predefined("alexnet").spec
        let items: [QueueItem] = [.dataflow(spec)] + (0..<5).map { _ in .event(event([[.number(1)]])) } + [.dataflow(spec), .event(event([]))]
        let records = Record.encode(items, base: 0, clientID: "c", batchSize: 2)
        XCTAssertEqual(records.map(\.kind), [.dataflow, .batch, .batch, .batch, .dataflow, .batch])
        XCTAssertEqual(records.map(\.first), [0, 1, 3, 5, 6, 7])
        XCTAssertEqual(records.map(\.last), [0, 2, 4, 5, 6, 7])
        let decoded = try JSONDecoder().decode(DataflowSpec.self, from: Data(records[0].body))
        XCTAssertEqual(decoded, spec)
    }

    func testSpoolLinesParseBackAndEventsCanBeDropped() throws {
        let items: [QueueItem] = (0..<3).map { i in .event(event([[.number(Double(i))]])) }
        let r = Record.encode(items, base: 40, clientID: "c", batchSize: 10)[0]
        let parsed = try XCTUnwrap(Record.parse(r.line[...]))
        XCTAssertEqual(parsed.kind, .batch)
        XCTAssertEqual(parsed.first, 40)
        XCTAssertEqual(parsed.last, 42)
        XCTAssertEqual(Array(parsed.body), Array(r.body))
        let rest = try XCTUnwrap(parsed.dropping(event: 1))
        let events = try XCTUnwrap((JSONSerialization.jsonObject(with: Data(rest.body)) as? [String: Any])?["events"] as? [[String: Any]])
        XCTAssertEqual(events.map { $0["key"] as? String }, ["c-40", "c-42"])
        let moved = parsed.withPrefix(first: -5, last: -5)
        XCTAssertEqual(Record.parse(moved.line[...])?.first, -5)
    }

    /// The predefined dataflow is what the server registers, with the seeds' tables.
    func testPredefinedDataflowRegisters() async throws {
        let scratch = try TestDatabase()
        let store = try ProvStore.open(scratch.location)
        defer { store.close() }
        let spec = DataflowBuilder.predefined("alexnet", validation: true)
            .transformation("Filters").output("oFilters", [.text("FILTER")])
            .transformation("TrainingModel").input("oFilters", from: "Filters")
            .spec
        _ = try await store.register(spec)
        let sets = try store.sets(of: "alexnet")
        XCTAssertEqual(Set(sets.map(\.tag)), ["itrainingmodel", "ilayers", "otrainingmodel", "iadaptation", "oadaptation", "otestingmodel", "ofilters"])
        let columns = try await store.query("select * from ds_otrainingmodel", options: QueryOptions(dataflow: "alexnet")).columns.map(\.name)
        for c in ["trainingmodel_task_id", "adaptation_task_id", "testingmodel_task_id", "loss", "accuracy", "val_accuracy", "epoch"] {
            XCTAssertTrue(columns.contains(c), "\(c) in \(columns)")
        }
        let filters = try await store.query("select * from ds_ofilters", options: QueryOptions(dataflow: "alexnet")).columns.map(\.name)
        XCTAssertTrue(filters.contains("trainingmodel_task_id"))
    }
}

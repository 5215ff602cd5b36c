import DNNProvPostgres
import DNNProvClient
import DNNProvModel
import DNNProvServer
import DNNProvStore
import Foundation
import XCTest
import DNNProvTestSupport

final class CaptureTests: XCTestCase {
    /// Events are batched by size, the dataflow goes first, rows and links arrive.
    func testBatchesArriveWithRowsAndDependencies() async throws {
        let scratch = try TestDatabase()
        let store = try ProvStore.open(scratch.location)
        defer { store.close() }
        try await withLiveServer(store) { url in
            let client = testClient(url: url, scratch: scratch, batchSize: 50)
            client.register(DataflowBuilder.predefined("alexnet"))
            let run = client.execution(dataflow: "alexnet")
            let train = run.task("trainingmodel")
            train.add(set: "itrainingmodel", values: ["adam", 0.001, 1000, 8, 32, 0.9, 0.0])
            train.begin()
            for e in 1...1000 { train.save(set: "otrainingmodel", row: epochRow(e)) }
            train.end()
            let adapt = run.task("adaptation", dependencies: [train])
            adapt.add(set: "iadaptation", values: [10, 0.5, 0.001])
            adapt.save(set: "oadaptation", values: [0.0005, "2026-11-25T10:00:10", 10, 1])
            adapt.end()
            XCTAssertTrue(client.flush(timeout: .seconds(20)))
            let stats = client.stats
            XCTAssertEqual(stats.eventsEnqueued, 1002 + 2)
            XCTAssertEqual(stats.eventsAcknowledged, 1004)
            XCTAssertEqual(stats.duplicates, 0)
            XCTAssertEqual(stats.dataflowsRegistered, 1)
            XCTAssertGreaterThanOrEqual(stats.batchesAcknowledged, 21, "1004 events in batches of at most 50")
            XCTAssertEqual(stats.valuesAcknowledged, 7 + 1000 * 5 + 3 + 4)
            XCTAssertEqual(stats.acknowledgementLatencies.count, stats.batchesAcknowledged)
            client.close()

            try await XCTAssertEqualAsync(try await store.count("select count(*) from ds_otrainingmodel"), 1000)
            try await XCTAssertEqualAsync(try await store.count("select count(*) from ds_itrainingmodel"), 1)
            try await XCTAssertEqualAsync(try await store.count("select count(*) from ds_otrainingmodel where adaptation_task_id is not null"), 1000)
            try await XCTAssertEqualAsync(try await store.count("select count(*) from task where status = 'FINISHED'"), 2)
            try await XCTAssertEqualAsync(try await store.count("select count(*) from dataflow_execution where tag = '\(run.name)' and host is not null and script is not null"), 1)
            XCTAssertEqual(scratch.spooledLines(), 0)
        }
    }

    /// The server is down when capture starts (and the buffer overflows to the spool); once it is
    /// up, everything arrives, in order, exactly once.
    func testServerDownThenUpDeliversEverythingOnce() async throws {
        let scratch = try TestDatabase()
        let port = freePort()
        let client = testClient(url: "http://127.0.0.1:\(port)", scratch: scratch, batchSize: 40, maxBuffered: 100)
        client.register(DataflowBuilder.predefined("alexnet"))
        let start = ContinuousClock.now
        for _ in 0..<3 { sendTraining(client, epochs: 200) }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(2), "capture must not wait on the network")
        XCTAssertFalse(client.flush(timeout: .milliseconds(300)))
        XCTAssertGreaterThan(client.spooledRecords, 0, "the full buffer went to the spool")
        let deadline = Date().addingTimeInterval(10)
        while client.stats.deliveryFailures == 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        XCTAssertGreaterThan(client.stats.deliveryFailures, 0)

        let store = try ProvStore.open(scratch.location)
        defer { store.close() }
        try await withServer(store, port: port) {
            XCTAssertTrue(client.flush(timeout: .seconds(20)))
            XCTAssertEqual(client.spooledRecords, 0)
            try await XCTAssertEqualAsync(try await store.count("select count(*) from ds_otrainingmodel"), 600)
            try await XCTAssertEqualAsync(try await store.count("select count(*) from ds_itrainingmodel"), 3)
            try await XCTAssertEqualAsync(try await store.count("select count(*) from task where status = 'FINISHED'"), 3)
            // In order: every training task ended after its last epoch row.
            try await XCTAssertEqualAsync(try await store.count("select count(*) from idempotency_key"), 3 * 202)
            client.close()
        }
        XCTAssertEqual(client.stats.eventsAcknowledged, 3 * 202)
        XCTAssertEqual(client.stats.duplicates, 0)
    }

    /// The server stops while a client sends over its kept-alive connection, then comes back on
    /// the same database: every event is stored once.
    func testServerRestartMidStreamLosesNothing() async throws {
        let scratch = try TestDatabase()
        let port = freePort()
        let client = testClient(url: "http://127.0.0.1:\(port)", scratch: scratch, batchSize: 50)
        client.register(DataflowBuilder.predefined("alexnet"))
        let first = try ProvStore.open(scratch.location)
        try await withServer(first, port: port) {
            sendTraining(client, epochs: 300)
            XCTAssertTrue(client.flush(timeout: .seconds(20)))
        }
        first.close()
        sendTraining(client, epochs: 300)  // the server is gone: spooled
        XCTAssertFalse(client.flush(timeout: .milliseconds(200)))
        let second = try ProvStore.open(scratch.location)
        defer { second.close() }
        try await withServer(second, port: port) {
            sendTraining(client, epochs: 300)
            XCTAssertTrue(client.flush(timeout: .seconds(20)))
            try await XCTAssertEqualAsync(try await second.count("select count(*) from ds_otrainingmodel"), 900)
            try await XCTAssertEqualAsync(try await second.count("select count(*) from idempotency_key"), 3 * 302)
            try await XCTAssertEqualAsync(try await second.count("select count(*) from task where status = 'FINISHED'"), 3)
        }
        client.close()
    }

    /// A batch whose acknowledgement is lost is sent again and stored once (idempotency keys).
    func testLostAcknowledgementIsStoredOnce() async throws {
        let scratch = try TestDatabase()
        let store = try ProvStore.open(scratch.location)
        defer { store.close() }
        try await withLiveServer(store) { url in
            let transport = LosingTransport(HTTPTransport(url: url, token: nil, timeout: .seconds(5)), lose: 2)
            let client = testClient(url: url, scratch: scratch, batchSize: 100, transport: transport)
            client.register(DataflowBuilder.predefined("alexnet"))
            sendTraining(client, epochs: 250)
            XCTAssertTrue(client.flush(timeout: .seconds(20)))
            client.close()
            XCTAssertEqual(transport.lost, 2)
            XCTAssertGreaterThan(client.stats.duplicates, 0)
            try await XCTAssertEqualAsync(try await store.count("select count(*) from ds_otrainingmodel"), 250)
            try await XCTAssertEqualAsync(try await store.count("select count(*) from idempotency_key"), 252)
        }
    }

    /// A bad event (wrong number of values) is dropped; the rest of its batch is stored.
    func testBadEventIsDroppedAndTheRestStored() async throws {
        let scratch = try TestDatabase()
        let store = try ProvStore.open(scratch.location)
        defer { store.close() }
        try await withLiveServer(store) { url in
            let client = testClient(url: url, scratch: scratch, batchSize: 1000)
            client.register(DataflowBuilder.predefined("alexnet"))
            let train = client.execution(dataflow: "alexnet").task("trainingmodel")
            train.begin()
            for e in 1...20 {
                train.save(set: "otrainingmodel", row: e == 7 ? [.number(1), .number(2)] : epochRow(e))
            }
            train.end()
            XCTAssertTrue(client.flush(timeout: .seconds(20)))
            XCTAssertEqual(client.stats.eventsDropped, 1)
            XCTAssertEqual(client.stats.eventsAcknowledged, 21)
            client.close()
            try await XCTAssertEqualAsync(try await store.count("select count(*) from ds_otrainingmodel"), 19)
            try await XCTAssertEqualAsync(try await store.count("select count(*) from ds_otrainingmodel where epoch = 7"), 0)
        }
    }

    /// With nothing listening, capture neither throws nor waits; what was captured survives the
    /// client in its spool and the next client of that server delivers it.
    func testUnreachableServerSpoolsAndTheNextClientReplays() async throws {
        let scratch = try TestDatabase()
        let port = freePort()
        let url = "http://127.0.0.1:\(port)"
        let first = testClient(url: url, scratch: scratch, batchSize: 100)
        first.register(DataflowBuilder.predefined("alexnet"))
        let start = ContinuousClock.now
        sendTraining(first, epochs: 500)
        XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(500))
        first.close(timeout: .milliseconds(200))
        XCTAssertGreaterThan(scratch.spooledLines(), 0)
        // After close, capture still neither throws nor loses: it goes to the spool.
        first.enqueue(TaskEvent(dataflow: "alexnet", execution: "late", transformation: "trainingmodel", task: "1", status: .finished))

        let store = try ProvStore.open(scratch.location)
        defer { store.close() }
        try await withServer(store, port: port) {
            let second = testClient(url: url, scratch: scratch, adopt: true)
            XCTAssertTrue(second.flush(timeout: .seconds(1)))  // nothing of its own
            // The adopted records are replayed by the sender's first round.
            let deadline = Date().addingTimeInterval(20)
            while second.spooledRecords > 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            XCTAssertEqual(second.spooledRecords, 0)
            second.close()
            try await XCTAssertEqualAsync(try await store.count("select count(*) from ds_otrainingmodel"), 500)
            try await XCTAssertEqualAsync(try await store.count("select count(*) from dataflow_execution where tag = 'late'"), 1)
        }
        XCTAssertEqual(scratch.spooledLines(), 0)
    }
}

/// Delivers the first `lose` batches for real, then reports a failure as if the connection had
/// dropped before the answer arrived.
final class LosingTransport: BatchTransport, @unchecked Sendable {
    private let base: HTTPTransport
    private let lock = NSLock()
    private var toLose: Int
    private(set) var lost = 0

    init(_ base: HTTPTransport, lose: Int) {
        self.base = base
        toLose = lose
    }

    func post(path: String, body: ArraySlice<UInt8>) throws -> TransportResponse {
        let response = try base.post(path: path, body: body)
        lock.lock(); defer { lock.unlock() }
        if path.hasSuffix("/batch"), toLose > 0, response.status == 200 {
            toLose -= 1
            lost += 1
            throw URLError(.networkConnectionLost)
        }
        return response
    }

    func shutdown() { base.shutdown() }
}

func XCTAssertEqualAsync<T: Equatable>(_ value: @autoclosure () async throws -> T, _ expected: T,
                                       file: StaticString = #filePath, line: UInt = #line) async throws {
    let v = try await value()
    XCTAssertEqual(v, expected, file: file, line: line)
}

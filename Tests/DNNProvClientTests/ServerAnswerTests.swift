import DNNProvClient
import DNNProvModel
import DNNProvServer
import DNNProvStore
import Foundation
import XCTest

/// How the sender reacts to answers other than 200: retry later (503, 429), split (413).
final class ServerAnswerTests: XCTestCase {
    func testUnavailableAndTooManyRequestsAreRetried() async throws {
        let scratch = try Scratch()
        let store = try ProvStore(path: scratch.database)
        defer { store.close() }
        try await withLiveServer(store) { url in
            let transport = AnsweringTransport(HTTPTransport(url: url, token: nil, timeout: .seconds(5))) { path, _, n in
                path.hasSuffix("/batch") && n <= 3 ? (n % 2 == 0 ? 429 : 503) : nil
            }
            let client = testClient(url: url, scratch: scratch, batchSize: 100, transport: transport)
            client.register(DataflowBuilder.predefined("alexnet"))
            sendTraining(client, epochs: 250)
            XCTAssertTrue(client.flush(timeout: .seconds(20)))
            XCTAssertGreaterThanOrEqual(client.stats.deliveryFailures, 1)
            XCTAssertEqual(client.stats.eventsDropped, 0)
            client.close()
            try await XCTAssertEqualAsync(try await store.count("select count(*) from ds_otrainingmodel"), 250)
        }
    }

    func testTooLargeBatchesAreSplit() async throws {
        let scratch = try Scratch()
        let store = try ProvStore(path: scratch.database)
        defer { store.close() }
        try await withLiveServer(store) { url in
            // As if the server's body limit were ~8 KB.
            let transport = AnsweringTransport(HTTPTransport(url: url, token: nil, timeout: .seconds(5))) { _, size, _ in
                size > 8_000 ? 413 : nil
            }
            let client = testClient(url: url, scratch: scratch, batchSize: 200, transport: transport)
            client.register(DataflowBuilder.predefined("alexnet"))
            sendTraining(client, epochs: 400)
            XCTAssertTrue(client.flush(timeout: .seconds(20)))
            XCTAssertEqual(client.stats.eventsDropped, 0)
            client.close()
            try await XCTAssertEqualAsync(try await store.count("select count(*) from ds_otrainingmodel"), 400)
            try await XCTAssertEqualAsync(try await store.count("select count(*) from ingest_key"), 402)
        }
    }
}

/// Answers some requests itself (`answer` gives a status for path, body size, request number),
/// delivers the others.
final class AnsweringTransport: BatchTransport, @unchecked Sendable {
    private let base: HTTPTransport
    private let answer: (String, Int, Int) -> Int?
    private let lock = NSLock()
    private var count = 0

    init(_ base: HTTPTransport, answer: @escaping (String, Int, Int) -> Int?) {
        self.base = base
        self.answer = answer
    }

    func post(path: String, body: ArraySlice<UInt8>) throws -> TransportResponse {
        lock.lock()
        count += 1
        let n = count
        lock.unlock()
        if let status = answer(path, body.count, n) {
            return TransportResponse(status: status, body: Array(#"{"error": "not now"}"#.utf8))
        }
        return try base.post(path: path, body: body)
    }

    func shutdown() { base.shutdown() }
}

import DNNProvPostgres
import DNNProvClient
import DNNProvModel
import DNNProvServer
import DNNProvStore
import Foundation
import XCTest
import DNNProvTestSupport

/// How the sender reacts to answers other than 200: retry later (503, 429), split (413).
final class ServerAnswerTests: XCTestCase {
    func testUnavailableAndTooManyRequestsAreRetried() async throws {
        let scratch = try TestDatabase()
        let store = try ProvStore.open(scratch.location)
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

    /// A 4xx that is not dnnprov's (another service on that port, a proxy's 404) drops nothing:
    /// the data waits in the spool as for a server that is down.
    func testForeignRefusalsKeepTheData() async throws {
        let scratch = try TestDatabase()
        let store = try ProvStore.open(scratch.location)
        defer { store.close() }
        try await withLiveServer(store) { url in
            let transport = AnsweringTransport(HTTPTransport(url: url, token: nil, timeout: .seconds(5)), body: "<html>Not Found</html>") { path, _, n in
                path.hasSuffix("/batch") && n <= 3 ? 404 : nil
            }
            let client = testClient(url: url, scratch: scratch, batchSize: 100, transport: transport)
            client.register(DataflowBuilder.predefined("alexnet"))
            sendTraining(client, epochs: 120)
            XCTAssertTrue(client.flush(timeout: .seconds(20)))
            XCTAssertEqual(client.stats.eventsDropped, 0)
            client.close()
            try await XCTAssertEqualAsync(try await store.count("select count(*) from ds_otrainingmodel"), 120)
        }
    }

    func testTooLargeBatchesAreSplit() async throws {
        let scratch = try TestDatabase()
        let store = try ProvStore.open(scratch.location)
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
            try await XCTAssertEqualAsync(try await store.count("select count(*) from idempotency_key"), 402)
        }
    }

    /// A busy server (429 + `Retry-After: 1`): the sender does not come back before that second is
    /// over, capture meanwhile does not wait, and every event is stored once.
    func testRetryAfterIsWaitedAndNothingIsLost() async throws {
        let scratch = try TestDatabase()
        let store = try ProvStore.open(scratch.location)
        defer { store.close() }
        try await withLiveServer(store) { url in
            let transport = BusyTransport(HTTPTransport(url: url, token: nil, timeout: .seconds(5)),
                                          busyBatches: 1, retryAfter: .seconds(1))
            let client = testClient(url: url, scratch: scratch, batchSize: 100, transport: transport)
            client.register(DataflowBuilder.predefined("alexnet"))
            sendTraining(client, epochs: 250)
            let deadline = Date().addingTimeInterval(10)
            while transport.busyAt == nil && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
            XCTAssertNotNil(transport.busyAt)
            let start = ContinuousClock.now
            sendTraining(client, epochs: 250)
            XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(500), "capture must not wait for the server")
            XCTAssertTrue(client.flush(timeout: .seconds(20)))
            client.close()
            let gap = try XCTUnwrap(transport.firstPostAfterBusy)
            XCTAssertGreaterThanOrEqual(gap, .milliseconds(950), "the sender came back \(gap) after the 429")
            XCTAssertEqual(client.stats.eventsDropped, 0)
            XCTAssertEqual(client.stats.duplicates, 0)
            try await XCTAssertEqualAsync(try await store.count("select count(*) from ds_otrainingmodel"), 500)
            try await XCTAssertEqualAsync(try await store.count("select count(*) from idempotency_key"), 2 * 252)
        }
    }

    /// A `Retry-After` beyond `maxRetryAfter` is cut to it: a bogus header cannot stall delivery.
    func testRetryAfterIsCapped() async throws {
        let scratch = try TestDatabase()
        let store = try ProvStore.open(scratch.location)
        defer { store.close() }
        try await withLiveServer(store) { url in
            let transport = BusyTransport(HTTPTransport(url: url, token: nil, timeout: .seconds(5)),
                                          busyBatches: 1, retryAfter: .seconds(3600))
            let config = ClientConfiguration(
                url: url, batchSize: 100, batchInterval: .milliseconds(20), spoolDirectory: scratch.spool,
                adoptOrphanSpools: false, requestTimeout: .seconds(5), initialBackoff: .milliseconds(50),
                maxBackoff: .milliseconds(300), maxRetryAfter: .milliseconds(500))
            let client = ProvenanceClient(configuration: config, transport: transport)
            client.register(DataflowBuilder.predefined("alexnet"))
            sendTraining(client, epochs: 20)
            XCTAssertTrue(client.flush(timeout: .seconds(10)))
            client.close()
            let gap = try XCTUnwrap(transport.firstPostAfterBusy)
            XCTAssertGreaterThanOrEqual(gap, .milliseconds(450))
            try await XCTAssertEqualAsync(try await store.count("select count(*) from ds_otrainingmodel"), 20)
        }
    }

    func testRetryAfterParsesSecondsAndHTTPDates() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        XCTAssertEqual(TransportResponse.parseRetryAfter("1"), .seconds(1))
        XCTAssertEqual(TransportResponse.parseRetryAfter(" 30 "), .seconds(30))
        XCTAssertEqual(TransportResponse.parseRetryAfter("-5"), .zero)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let later = formatter.string(from: now.addingTimeInterval(120))
        XCTAssertEqual(TransportResponse.parseRetryAfter(later, now: now), .seconds(120))
        XCTAssertEqual(TransportResponse.parseRetryAfter(formatter.string(from: now.addingTimeInterval(-60)), now: now), .zero)
        formatter.dateFormat = "EEE MMM d HH:mm:ss yyyy"  // asctime
        XCTAssertEqual(TransportResponse.parseRetryAfter(formatter.string(from: now.addingTimeInterval(7)), now: now), .seconds(7))
        XCTAssertNil(TransportResponse.parseRetryAfter("soon"))
        XCTAssertNil(TransportResponse.parseRetryAfter("nan"))
    }

    /// An unusable CA file fails each delivery with a message naming it (so the sender spools and
    /// logs it) instead of crashing the program that created the client.
    func testUnreadableCAFileIsADeliveryError() throws {
        let transport = HTTPTransport(url: "https://127.0.0.1:1", token: nil, caFile: "/nonexistent/ca.pem", timeout: .seconds(1))
        defer { transport.shutdown() }
        XCTAssertThrowsError(try transport.post(path: "/api/v1/batch", body: [])) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/ca.pem"), "\(error)")
            XCTAssertTrue("\(error)".contains("DNNPROV_CA_FILE"), "\(error)")
        }
    }
}

/// Answers the first `busyBatches` batches 429 with a `Retry-After`, delivers everything else,
/// and notes when each request was made.
final class BusyTransport: BatchTransport, @unchecked Sendable {
    private let base: HTTPTransport
    private let retryAfter: Duration
    private let lock = NSLock()
    private var busyLeft: Int
    private var posts: [ContinuousClock.Instant] = []
    private var busy: ContinuousClock.Instant?

    init(_ base: HTTPTransport, busyBatches: Int, retryAfter: Duration) {
        self.base = base
        self.retryAfter = retryAfter
        busyLeft = busyBatches
    }

    /// When the (first) 429 was answered.
    var busyAt: ContinuousClock.Instant? { lock.withLock { busy } }

    /// How long after the 429 the next request came.
    var firstPostAfterBusy: Duration? {
        lock.withLock { busy.flatMap { b in posts.first { $0 > b }.map { $0 - b } } }
    }

    func post(path: String, body: ArraySlice<UInt8>) throws -> TransportResponse {
        let answerBusy: Bool = lock.withLock {
            posts.append(.now)
            guard path.hasSuffix("/batch"), busyLeft > 0 else { return false }
            busyLeft -= 1
            return true
        }
        if answerBusy {
            lock.withLock { busy = busy ?? .now }
            return TransportResponse(status: 429, body: Array(#"{"error": "the server is busy"}"#.utf8), retryAfter: retryAfter)
        }
        return try base.post(path: path, body: body)
    }

    func shutdown() { base.shutdown() }
}

/// Answers some requests itself (`answer` gives a status for path, body size, request number),
/// delivers the others.
final class AnsweringTransport: BatchTransport, @unchecked Sendable {
    private let base: HTTPTransport
    private let answer: (String, Int, Int) -> Int?
    private let body: String
    private let lock = NSLock()
    private var count = 0

    init(_ base: HTTPTransport, body: String = #"{"error": "not now"}"#, answer: @escaping (String, Int, Int) -> Int?) {
        self.base = base
        self.body = body
        self.answer = answer
    }

    func post(path: String, body: ArraySlice<UInt8>) throws -> TransportResponse {
        lock.lock()
        count += 1
        let n = count
        lock.unlock()
        if let status = answer(path, body.count, n) {
            return TransportResponse(status: status, body: Array(self.body.utf8))
        }
        return try base.post(path: path, body: body)
    }

    func shutdown() { base.shutdown() }
}

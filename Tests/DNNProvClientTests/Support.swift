import DNNProvClient
import DNNProvModel
import DNNProvServer
import DNNProvStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import XCTest

#if canImport(Glibc)
import Glibc
import DNNProvTestSupport
#endif

extension TestDatabase {
    /// The client's spool folder, in the scratch folder.
    var spool: String { file("spool") }

    /// Lines in the spool files (records not yet delivered).
    func spooledLines() -> Int {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []
        return files.filter { $0.hasSuffix(".jsonl") }.reduce(0) { n, f in
            let text = (try? String(contentsOfFile: spool + "/" + f, encoding: .utf8)) ?? ""
            return n + text.split(separator: "\n").count
        }
    }
}

/// Runs the real server (HummingbirdTesting `.live`: a loopback port) over `store`.
func withLiveServer<T>(_ store: ProvStore, _ body: @escaping @Sendable (_ url: String) async throws -> T) async throws -> T {
    let app = try buildApplication(store: store, configuration: .init(port: 0))
    return try await app.test(.live) { client in try await body("http://localhost:\(client.port!)") }
}

/// Runs the real server on a given port until `body` returns (for "the server comes up later"),
/// then shuts it down gracefully. `waitUntilListening`: `body` starts once the port accepts.
func withServer<T>(_ store: ProvStore, port: Int, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withServer(store, configuration: .init(port: port), body)
}

func withServer<T>(_ store: ProvStore, configuration: ServerConfiguration, waitUntilListening: Bool = false,
                   _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let app = try buildApplication(store: store, configuration: configuration)
    let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "test-server")))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        defer { tasks.cancelAll() }
        do {
            if waitUntilListening { try await waitForPort(configuration.port) }
            let result = try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
    }
}

/// A loopback port nobody listens on (bound then released).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

extension ProvStore {
    /// The single integer a counting query answers.
    func count(_ sql: String, dataflow: String = "alexnet") async throws -> Int {
        let r = try await query(sql, options: QueryOptions(dataflow: dataflow))
        guard case .integer(let n)? = r.rows.first?.first else { return -1 }
        return Int(n)
    }
}

/// A client configured for tests: small batches, short backoff, its own spool directory.
func testClient(url: String, scratch: TestDatabase, batchSize: Int = 100, maxBuffered: Int = 100_000,
                transport: (any BatchTransport)? = nil, adopt: Bool = false) -> ProvenanceClient {
    let config = ClientConfiguration(
        url: url, batchSize: batchSize, batchInterval: .milliseconds(20), maxBufferedEvents: maxBuffered,
        spoolDirectory: scratch.spool, adoptOrphanSpools: adopt, requestTimeout: .seconds(5),
        initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(300))
    if let transport { return ProvenanceClient(configuration: config, transport: transport) }
    return ProvenanceClient(configuration: config)
}

/// One epoch's row of the predefined oTrainingModel set.
func epochRow(_ epoch: Int) -> [Value] {
    [.text("2026-11-25T10:00:\(epoch % 60)"), .number(1.5), .number(2.0 / Double(epoch + 1)), .number(Double(epoch) / 1000), .number(Double(epoch))]
}

/// Sends `epochs` rows of one training task of a new execution, plus its hyperparameters.
@discardableResult
func sendTraining(_ client: ProvenanceClient, epochs: Int, dataflow: String = "alexnet") -> ProvTask {
    let run = client.execution(dataflow: dataflow)
    let train = run.task("trainingmodel")
    train.add(set: "itrainingmodel", values: ["adam", 0.001, epochs, 8, 32, 0.9, 0.0])
    train.begin()
    for e in 1...epochs { train.save(set: "otrainingmodel", row: epochRow(e)) }
    train.end()
    return train
}

/// Waits until something listens on the loopback `port` (the server starts in the background).
private func waitForPort(_ port: Int) async throws {
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
        close(fd)
        if ok { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw URLError(.cannotConnectToHost)
}

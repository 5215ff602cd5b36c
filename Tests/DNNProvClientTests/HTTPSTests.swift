import DNNProvPostgres
import DNNProvClient
import DNNProvModel
import DNNProvServer
import DNNProvStore
import Foundation
import Logging
import ServiceLifecycle
import XCTest

#if canImport(Glibc)
import Glibc
import DNNProvTestSupport
#endif

/// HTTPS to a server whose certificate the system does not trust (self-signed, as from a private
/// CA): delivered with `caFile`, refused without it, and never a crash.
final class HTTPSTests: XCTestCase {
    func testCAFileLetsTheSenderAndTheReadClientTrustTheServer() async throws {
        let scratch = try TestDatabase()
        let (cert, key) = try makeSelfSignedCertificate(in: scratch.directory)
        let store = try ProvStore.open(scratch.location)
        defer { store.close() }
        let port = freePort()
        try await withServer(store, configuration: .init(port: port, tls: .init(certificate: cert, privateKey: key)), waitUntilListening: true) {
            let url = "https://127.0.0.1:\(port)"
            let client = ProvenanceClient(configuration: Self.configuration(url: url, caFile: cert, scratch: scratch))
            client.register(DataflowBuilder.predefined("alexnet"))
            sendTraining(client, epochs: 10)
            XCTAssertTrue(client.flush(timeout: .seconds(20)))
            client.close()
            XCTAssertEqual(client.stats.eventsAcknowledged, 12)
            let result = try await ServerClient(url: url, caFile: cert).query("select count(*) from ds_otrainingmodel", dataflow: "alexnet")
            XCTAssertEqual(result.rows.first?.first, .integer(10))
        }
    }

    func testWithoutTheCAFileNothingIsSentAndTheErrorSaysWhatToSet() async throws {
        let scratch = try TestDatabase()
        let (cert, key) = try makeSelfSignedCertificate(in: scratch.directory)
        let store = try ProvStore.open(scratch.location)
        defer { store.close() }
        let port = freePort()
        try await withServer(store, configuration: .init(port: port, tls: .init(certificate: cert, privateKey: key)), waitUntilListening: true) {
            let url = "https://127.0.0.1:\(port)"
            let client = ProvenanceClient(configuration: Self.configuration(url: url, caFile: nil, scratch: scratch))
            client.register(DataflowBuilder.predefined("alexnet"))
            sendTraining(client, epochs: 10)
            XCTAssertFalse(client.flush(timeout: .seconds(1)))
            client.close(timeout: .milliseconds(100))
            XCTAssertGreaterThan(client.stats.deliveryFailures, 0)
            XCTAssertGreaterThan(scratch.spooledLines(), 0, "kept for a later client with the right CA")
            let registered = try await store.query("select count(*) from dataflow", options: QueryOptions())
            XCTAssertEqual(registered.rows.first?.first, .integer(0))
            do {
                _ = try await ServerClient(url: url, caFile: nil).dataflows()
                XCTFail("an untrusted certificate was accepted")
            } catch {
                XCTAssertTrue("\(error)".contains("DNNPROV_CA_FILE"), "\(error)")
            }
        }
    }

    private static func configuration(url: String, caFile: String?, scratch: TestDatabase) -> ClientConfiguration {
        var config = ClientConfiguration(
            url: url, batchSize: 100, batchInterval: .milliseconds(20), spoolDirectory: scratch.spool,
            adoptOrphanSpools: false, requestTimeout: .seconds(5), initialBackoff: .milliseconds(50),
            maxBackoff: .milliseconds(300))
        config.caFile = caFile  // set explicitly: DNNPROV_CA_FILE in the environment must not leak in
        return config
    }
}

/// A certificate for 127.0.0.1 and localhost with its key, made by the `openssl` command.
func makeSelfSignedCertificate(in directory: URL) throws -> (certificate: String, key: String) {
    let cert = directory.appendingPathComponent("cert.pem").path
    let key = directory.appendingPathComponent("key.pem").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                         "-keyout", key, "-out", cert, "-subj", "/CN=localhost",
                         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw XCTSkip("the openssl command could not make a certificate") }
    return (cert, key)
}

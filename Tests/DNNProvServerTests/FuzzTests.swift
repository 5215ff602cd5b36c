import DNNProvPostgres
import DNNProvServer
import DNNProvStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import XCTest
import DNNProvTestSupport

/// Mutated versions of valid requests, sent to every write route and the query route: whatever
/// the bytes, the answer is 2xx or 4xx, never a 5xx or a crash, and the server keeps answering.
/// Seeded, so a failure can be replayed; schemathesis (scripts/schemathesis) covers the rest of
/// the API from the OpenAPI description.
final class FuzzTests: XCTestCase {
    /// Values that have reached trapping conversions or database limits before.
    static let nasty = ["1e300", "-1e300", "1e309", "-0", "NaN", "\"NaN\"", "9223372036854775808", "-9223372036854775809",
                        "null", "true", "[]", "{}", "\"\"", "\"\\u0000\"", "\"sqlite_x\"", "\"a__ds_b\"", "18446744073709551616",
                        String(repeating: "[", count: 2000), "\"" + String(repeating: "x", count: 70_000) + "\""]

    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    static func mutate(_ text: String, _ rng: inout Rng) -> String {
        var bytes = Array(text.utf8)
        switch rng.below(5) {
        case 0: // replace a number or string with a nasty value
            let value = Array(nasty[rng.below(nasty.count)].utf8)
            let at = rng.below(bytes.count)
            let end = min(bytes.count, at + 1 + rng.below(8))
            bytes.replaceSubrange(at..<end, with: value)
        case 1: // flip bytes
            for _ in 0..<(1 + rng.below(4)) where !bytes.isEmpty { bytes[rng.below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next()) }
        case 2: // cut
            bytes = Array(bytes.prefix(rng.below(bytes.count)))
        case 3: // duplicate a slice
            let at = rng.below(bytes.count)
            let slice = bytes[at..<min(bytes.count, at + rng.below(40))]
            bytes.insert(contentsOf: slice, at: rng.below(bytes.count))
        default: // a nasty value for the value of a key
            if let colon = bytes.indices.filter({ bytes[$0] == UInt8(ascii: ":") }).randomElement(using: &rng) {
                let value = Array(nasty[rng.below(nasty.count)].utf8)
                var end = colon + 1
                while end < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}")].contains(bytes[end]) { end += 1 }
                bytes.replaceSubrange((colon + 1)..<end, with: value)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func testMutatedRequestsNeverGet5xx() async throws {
        let db = try TestDatabase()
        let store = try ProvStore.open(db.location)
        defer { store.close() }
        let app = try buildApplication(store: store, configuration: ServerConfiguration(port: 0))
        let spec = String(decoding: try JSONSerialization.data(withJSONObject: SmallFlow.specJSON("fuzz")), as: UTF8.self)
        var event = SmallFlow.eventJSON("fuzz", execution: "e", epoch: 1)
        event["key"] = "k"
        event["time"] = 1_764_061_200.5
        event["dependencies"] = [["transformation": "trainingmodel", "task": "1"]]
        let batch = String(decoding: try JSONSerialization.data(withJSONObject: ["events": [event]]), as: UTF8.self)
        let dfaTask = #"{"id": "1", "dataflow": "fuzz", "transformation": "trainingmodel", "status": "RUNNING", "sets": [{"tag": "otrainingmodel", "elements": [["0.5", "1"]]}], "dependency": {"tags": [{"tag": "trainingmodel"}], "ids": [{"id": "1,2"}]}}"#
        let dfaText = "dataflow(fuzz)\nprogram(trainingmodel)\ntask(fuzz,trainingmodel,1,RUNNING)\ncollection(otrainingmodel,{{0.5;1}})"
        let query = #"{"sql": "select loss, epoch from ds_otrainingmodel where epoch > 0", "dataflow": "fuzz", "limit": 10, "timeout_ms": 1000}"#
        let targets: [(String, String)] = [
            ("/api/v1/dataflows", spec), ("/api/v1/batch", batch), ("/pde/task/json", dfaTask), ("/pde/dataflow/json", spec),
            ("/pde/task", dfaText), ("/pde/dataflow", dfaText), ("/api/v1/query", query),
        ]
        try await app.test(.router) { client in
            var rng = Rng(state: 20261125)
            for (path, body) in [("/api/v1/dataflows", spec), ("/api/v1/batch", batch)] {
                try await client.execute(uri: path, method: .post, body: ByteBuffer(string: body)) { XCTAssertLessThan($0.status.code, 300, path) }
            }
            for round in 0..<150 {
                for (path, valid) in targets {
                    var body = Self.mutate(valid, &rng)
                    if rng.below(3) == 0 { body = Self.mutate(body, &rng) }
                    try await client.execute(uri: path, method: .post, body: ByteBuffer(string: body)) { r in
                        XCTAssertLessThan(r.status.code, 500, "round \(round) \(path): \(body.prefix(300)) -> \(String(buffer: r.body).prefix(300))")
                    }
                }
            }
            try await client.execute(uri: "/health", method: .get) { XCTAssertEqual($0.status, .ok) }
        }
    }
}

extension FuzzTests.Rng: RandomNumberGenerator {}

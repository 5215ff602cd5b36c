import DNNProvPostgres
import DNNProvServer
import DNNProvStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import XCTest
import DNNProvTestSupport

/// Runs the real server on a loopback port (HummingbirdTesting `.live`) over `path`,
/// and hands the test a JSON client.
func withLiveServer<T>(database path: String, configuration: ServerConfiguration = .init(port: 0),
                       _ body: @escaping @Sendable (LiveAPI) async throws -> T) async throws -> T {
    let store = try ProvStore.open(path)
    defer { store.close() }
    let app = try buildApplication(store: store, configuration: configuration)
    return try await app.test(.live) { client in try await body(LiveAPI(client: client)) }
}

/// A response: its status and its body parsed as JSON.
struct APIResponse {
    var status: HTTPResponse.Status
    var json: Any?
    var text: String

    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [Any] { json as? [Any] ?? [] }
    var error: String { object["error"] as? String ?? "" }
}

struct LiveAPI: Sendable {
    let client: any TestClientProtocol

    func request(_ method: HTTPRequest.Method, _ path: String, body: String? = nil, contentType: String? = "application/json",
                 token: String? = nil) async throws -> APIResponse {
        var headers = HTTPFields()
        if let contentType { headers[.contentType] = contentType }
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { r in
            let text = String(buffer: r.body)
            return APIResponse(status: r.status, json: try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]), text: text)
        }
    }

    func post(_ path: String, json: Any) async throws -> APIResponse {
        let data = try JSONSerialization.data(withJSONObject: json)
        return try await request(.post, path, body: String(decoding: data, as: UTF8.self))
    }

    func get(_ path: String) async throws -> APIResponse { try await request(.get, path) }

    /// A POST that must answer `expect`.
    @discardableResult
    func post(_ path: String, json: Any, expect: HTTPResponse.Status, file: StaticString = #filePath, line: UInt = #line) async throws -> APIResponse {
        let r = try await post(path, json: json)
        XCTAssertEqual(r.status, expect, r.text, file: file, line: line)
        return r
    }

    @discardableResult
    func request(_ method: HTTPRequest.Method, _ path: String, body: String?, contentType: String?, expect: HTTPResponse.Status,
                 file: StaticString = #filePath, line: UInt = #line) async throws -> APIResponse {
        let r = try await request(method, path, body: body, contentType: contentType)
        XCTAssertEqual(r.status, expect, r.text, file: file, line: line)
        return r
    }

    /// `POST /api/v1/query`, whatever it answers.
    func queryResponse(_ sql: String, dataflow: String?, token: String? = nil) async throws -> APIResponse {
        var body: [String: Any] = ["sql": sql]
        if let dataflow { body["dataflow"] = dataflow }
        let data = try JSONSerialization.data(withJSONObject: body)
        return try await request(.post, "/api/v1/query", body: String(decoding: data, as: UTF8.self), token: token)
    }

    /// Runs SQL through `POST /api/v1/query`; fails the test on an error answer.
    func query(_ sql: String, dataflow: String? = "alexnet", token: String? = nil,
               file: StaticString = #filePath, line: UInt = #line) async throws -> QueryRows {
        let r = try await queryResponse(sql, dataflow: dataflow, token: token)
        XCTAssertEqual(r.status, .ok, "query failed: \(r.text)\n\(sql)", file: file, line: line)
        let columns = (r.object["columns"] as? [[String: Any]] ?? []).map { $0["name"] as? String ?? "" }
        return QueryRows(columns: columns, rows: r.object["rows"] as? [[Any]] ?? [])
    }
}

/// Query rows with access by column name.
struct QueryRows {
    var columns: [String]
    var rows: [[Any]]

    var count: Int { rows.count }

    func column(_ name: String) -> [Any] {
        guard let i = columns.firstIndex(where: { $0.lowercased() == name.lowercased() }) else { return [] }
        return rows.map { $0[i] }
    }

    func doubles(_ name: String) -> [Double?] { column(name).map { ($0 as? NSNumber)?.doubleValue } }
    func strings(_ name: String) -> [String?] { column(name).map { $0 as? String } }
    func ints(_ name: String) -> [Int64?] { column(name).map { ($0 as? NSNumber)?.int64Value } }
}

/// The fixtures of the DfAnalyzer client variants (copied from shared/fixtures/dfanalyzer).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    struct Call {
        var method: String
        var path: String
        var body: Any
    }

    static func calls(_ variant: String) throws -> [Call] {
        let text = try String(contentsOf: directory.appendingPathComponent("variant-\(variant).jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return Call(method: obj["method"] as! String, path: obj["path"] as! String, body: obj["body"]!)
        }
    }
}

/// Equal within 1e-12 relative: the test's JSON encoder writes doubles with 15-17 digits.
func assertClose(_ actual: [Double?], _ expected: [Double], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(actual) vs \(expected)", file: file, line: line)
    for (a, e) in zip(actual, expected) {
        guard let a else { return XCTFail("null where \(e) was expected", file: file, line: line) }
        XCTAssertEqual(a, e, accuracy: abs(e) * 1e-12 + 1e-15, file: file, line: line)
    }
}

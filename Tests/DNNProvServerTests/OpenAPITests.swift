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

/// The OpenAPI document (`GET /openapi.json`) against the real router: every route is described,
/// and nothing is described that the server does not serve. scripts/schemathesis checks the
/// answers themselves against the document.
final class OpenAPITests: XCTestCase {
    /// One operation: `GET /api/v1/dataflows/{tag}`.
    struct Operation: Hashable, Comparable, CustomStringConvertible {
        var method: String
        var path: String
        var description: String { "\(method) \(path)" }
        static func < (a: Operation, b: Operation) -> Bool { (a.path, a.method) < (b.path, b.method) }
    }

    static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    func document() throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8))
        return try XCTUnwrap(json as? [String: Any], "the document is not a JSON object")
    }

    func documentedOperations() throws -> Set<Operation> {
        let paths = try XCTUnwrap(try document()["paths"] as? [String: Any], "the document has no paths")
        var out: Set<Operation> = []
        for (path, item) in paths {
            let item = try XCTUnwrap(item as? [String: Any], "path item \(path) is not an object")
            for key in item.keys where Self.methods.contains(key) {
                out.insert(Operation(method: key.uppercased(), path: path))
            }
        }
        return out
    }

    /// `/a/:name/b` or `/a/{name}/b` -> `/a/{name}/b`.
    static func openAPIPath(_ routerPath: String) -> String {
        let parts = routerPath.split(separator: "/", omittingEmptySubsequences: true).map { part -> String in
            part.hasPrefix(":") ? "{\(part.dropFirst())}" : (part == "**" ? "{path}" : String(part))
        }
        return "/" + parts.joined(separator: "/")
    }

    func testDocumentIsOpenAPI31WithSharedErrorAndSecuritySchemes() throws {
        let doc = try document()
        XCTAssertEqual(doc["openapi"] as? String, "3.1.0")
        let components = try XCTUnwrap(doc["components"] as? [String: Any])
        let schemas = try XCTUnwrap(components["schemas"] as? [String: Any])
        let error = try XCTUnwrap(schemas["Error"] as? [String: Any], "no Error schema")
        XCTAssertEqual(error["required"] as? [String], ["error"])
        let schemes = try XCTUnwrap(components["securitySchemes"] as? [String: [String: Any]])
        XCTAssertEqual(schemes["bearer"]?["scheme"] as? String, "bearer")
        XCTAssertEqual(schemes["tokenQuery"]?["in"] as? String, "query")
        XCTAssertEqual(schemes["tokenQuery"]?["name"] as? String, "token")
        XCTAssertEqual(schemes["sessionCookie"]?["in"] as? String, "cookie")
        XCTAssertEqual(schemes["sessionCookie"]?["name"] as? String, "dnnprov_session")

        // Every local $ref points at something that exists.
        var missing: [String] = []
        func visit(_ node: Any) {
            if let obj = node as? [String: Any] {
                if let ref = obj["$ref"] as? String {
                    var target: Any? = doc
                    for key in ref.dropFirst(2).split(separator: "/") { target = (target as? [String: Any])?[String(key)] }
                    if !ref.hasPrefix("#/") || target == nil { missing.append(ref) }
                }
                obj.values.forEach(visit)
            } else if let list = node as? [Any] {
                list.forEach(visit)
            }
        }
        visit(doc)
        XCTAssertEqual(missing, [], "dangling $ref")
    }

    func testEveryRouteIsDocumentedAndEveryDocumentedRouteExists() throws {
        let db = try TestDatabase()
        let store = try ProvStore.open(db.location)
        defer { store.close() }
        let router = buildRouter(store: store, configuration: ServerConfiguration())
        let served = Set(router.routes.map { Operation(method: $0.method.rawValue.uppercased(), path: Self.openAPIPath($0.path.description)) })
        XCTAssertFalse(served.isEmpty)
        let documented = try documentedOperations()

        let undocumented = served.subtracting(documented).sorted()
        let unserved = documented.subtracting(served).sorted()
        XCTAssertTrue(undocumented.isEmpty, "routes missing from the OpenAPI document:\n" + undocumented.map { "  \($0)" }.joined(separator: "\n"))
        XCTAssertTrue(unserved.isEmpty, "operations in the OpenAPI document that the router does not serve:\n" + unserved.map { "  \($0)" }.joined(separator: "\n"))
    }

    func testEveryOperationHasAnErrorAnswerForEachErrorStatus() throws {
        let paths = try XCTUnwrap(try document()["paths"] as? [String: [String: Any]])
        var problems: [String] = []
        for (path, item) in paths {
            for (method, value) in item where Self.methods.contains(method) {
                let op = value as? [String: Any] ?? [:]
                let responses = op["responses"] as? [String: Any] ?? [:]
                if !responses.keys.contains(where: { $0.hasPrefix("2") || $0.hasPrefix("3") }) {
                    problems.append("\(method.uppercased()) \(path): no success answer")
                }
                for (status, answer) in responses where status.hasPrefix("4") || status.hasPrefix("5") {
                    let ref = (answer as? [String: Any])?["$ref"] as? String ?? ""
                    if !ref.hasPrefix("#/components/responses/") {
                        problems.append("\(method.uppercased()) \(path) \(status): not one of the shared error answers")
                    }
                }
                if (op["operationId"] as? String)?.isEmpty ?? true {
                    problems.append("\(method.uppercased()) \(path): no operationId")
                }
            }
        }
        XCTAssertEqual(problems.sorted(), [])
    }

    func testServedAsJSON() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.client.execute(uri: "/openapi.json", method: .get) { r in
                XCTAssertEqual(r.status, .ok)
                let type = r.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) }
                XCTAssertEqual(type, "application/json")
                XCTAssertEqual(String(buffer: r.body), OpenAPIDocument.json)
            }
        }
    }
}

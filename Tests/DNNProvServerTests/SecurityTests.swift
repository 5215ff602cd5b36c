@testable import DNNProvServer
import DNNProvPostgres
import DNNProvModel
import DNNProvStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import XCTest
import DNNProvTestSupport

/// Tokens and roles on every route, scoped readers, and the defects found by the security probe
/// (issue 6), each as a regression test against the real router and a real SQLite file.
final class SecurityTests: XCTestCase {
    struct Tokens {
        var reader: String, writer: String, admin: String, scopedReader: String, scopedWriter: String
    }

    /// A store with two dataflows (`alexnet` with rows, `secret` with rows) and one token per kind.
    func withSecuredServer(_ body: @escaping @Sendable (LiveAPI, Tokens, ProvStore) async throws -> Void) async throws {
        let db = try TestDatabase()
        let store = try ProvStore.open(db.location)
        defer { store.close() }
        for tag in ["alexnet", "secret"] {
            _ = try await store.register(SmallFlow.spec(tag))
            _ = try await store.ingest(SmallFlow.events(tag, epochs: 3))
        }
        func make(_ role: Role, _ dataflows: [String]? = nil) async throws -> String {
            try await store.createToken(TokenRequest(role: role, dataflows: dataflows)).secret
        }
        let tokens = Tokens(reader: try await make(.reader), writer: try await make(.writer), admin: try await make(.admin),
                            scopedReader: try await make(.reader, ["alexnet"]), scopedWriter: try await make(.writer, ["alexnet"]))
        let app = try buildApplication(store: store, configuration: ServerConfiguration(port: 0, auth: .required))
        try await app.test(.router) { client in try await body(LiveAPI(client: client), tokens, store) }
    }

    /// Every route of the router, with each kind of caller: public routes never ask for a token;
    /// the others answer 401 without one, 403 below their role, and neither with enough. A route
    /// added later without a place in `required` fails this test.
    func testEveryRouteHonoursRoles() async throws {
        let db = try TestDatabase()
        // As (method, path) values: the router's descriptions are not Sendable.
        let routes = buildRouter(store: try ProvStore.open(db.location), configuration: ServerConfiguration(auth: .required)).routes
            .map { (method: $0.method, path: $0.path.description) }
        XCTAssertGreaterThan(routes.count, 20)
        try await withSecuredServer { api, tokens, store in
            // The live stream would hold the request open: closed, it answers 429 once the
            // caller's role is checked, which is what this test looks at.
            store.feed.finish()
            for route in routes {
                let template = route.path
                let method = route.method
                let required = Self.requiredRole(method, template)
                func path(token: String) -> String {
                    template.replacingOccurrences(of: ":tag", with: "alexnet").replacingOccurrences(of: ":set", with: "otrainingmodel")
                        .replacingOccurrences(of: ":id", with: "1").replacingOccurrences(of: ":token", with: token)
                }
                let inPath = template.contains(":token")
                func call(_ token: String?) async throws -> HTTPResponse.Status {
                    var headers = HTTPFields()
                    if let token, !inPath { headers[.authorization] = "Bearer \(token)" }
                    let p = path(token: token ?? "dnp_unknown")
                    return try await api.client.execute(uri: p, method: method, headers: headers, body: ByteBuffer()) { $0.status }
                }
                let anonymous = try await call(nil)
                guard let required else {
                    XCTAssertNotEqual(anonymous, .unauthorized, "\(route) is public")
                    continue
                }
                XCTAssertEqual(anonymous, .unauthorized, "\(route) without a token")
                for (role, token) in [(Role.reader, tokens.reader), (.writer, tokens.writer), (.admin, tokens.admin)] {
                    let status = try await call(token)
                    if role >= required {
                        XCTAssertFalse([.unauthorized, .forbidden].contains(status), "\(route) as \(role): \(status)")
                    } else {
                        XCTAssertEqual(status, .forbidden, "\(route) as \(role)")
                    }
                }
            }
        }
    }

    /// The role each route needs (nil: public), written out so that the test states the policy.
    static func requiredRole(_ method: HTTPRequest.Method, _ path: String) -> Role? {
        // Router paths read `/a/{name}` (or `/a/:name`); DfAnalyzer routes are mounted under `/t/{token}` too.
        var p = path.replacingOccurrences(of: ":token", with: "{token}").replacingOccurrences(of: ":tag", with: "{tag}")
            .replacingOccurrences(of: ":id", with: "{id}")
        if p.hasPrefix("/t/{token}") { p = String(p.dropFirst("/t/{token}".count)) }
        switch (method, p) {
        case (.get, "/health"), (.get, "/openapi.json"), (.get, "/login"), (.post, "/login"), (.post, "/logout"):
            return nil
        // The web UI's page and files hold no data; old DfAnalyzer page addresses lead to it.
        case (.get, "/"), (.get, "/ui/**"), (.get, "/dfview"), (.get, "/dfview/{tag}"), (.get, "/query_interface/{tag}/{id}"):
            return nil
        case (_, let p) where p.hasPrefix("/api/v1/tokens"):
            return .admin
        case (.post, "/api/v1/query"), (.post, "/api/v1/dataflows/{tag}/dfquery"), (.post, "/query_interface/{tag}/{id}"):
            return .reader
        case (.post, _), (.delete, "/api/v1/charts/{id}"):
            return .writer
        default:
            return .reader
        }
    }

    func testScopedReaderSeesOnlyItsDataflows() async throws {
        try await withSecuredServer { api, tokens, _ in
            let bearer = tokens.scopedReader
            let list = try await api.request(.get, "/api/v1/dataflows", token: bearer)
            XCTAssertEqual(list.array.compactMap { ($0 as? [String: Any])?["tag"] as? String }, ["alexnet"])
            try await assertEqual(try await api.request(.get, "/api/v1/dataflows/secret", token: bearer).status, .notFound)
            try await assertEqual(try await api.request(.get, "/api/v1/dataflows/secret/sets/otrainingmodel/rows", token: bearer).status, .notFound)
            let byID = try await api.request(.get, "/api/dataflows/2", token: bearer)
            XCTAssertEqual(byID.status, .notFound)
            XCTAssertFalse(byID.text.contains("secret"), "a 404 must not name a hidden dataflow: \(byID.text)")
            let dfaList = try await api.request(.get, "/api/dataflows/list", token: bearer)
            XCTAssertEqual(dfaList.array.count, 1)

            // Through SQL: the global tables hold only its dataflow's rows; other tables are out of reach.
            let own = try await api.query("select count(*) as n from ds_otrainingmodel", dataflow: "alexnet", token: bearer)
            XCTAssertEqual(own.ints("n"), [3])
            let names = try await api.query("select tag from dataflow", dataflow: nil, token: bearer)
            XCTAssertEqual(names.strings("tag"), ["alexnet"])
            let tasks = try await api.query("select count(*) as n from task", dataflow: nil, token: bearer)
            XCTAssertEqual(tasks.ints("n"), [1])
            let sets = try await api.query("select count(distinct df_id) as n from data_set", dataflow: nil, token: bearer)
            XCTAssertEqual(sets.ints("n"), [1])
            for sql in ["select * from secret.ds_otrainingmodel", "select * from \"secret__ds_otrainingmodel\"",
                        "select * from main.task", "select * from sqlite_master", "select * from main.dataflow",
                        "select * from ds_otrainingmodel", "PRAGMA table_info(secret__ds_otrainingmodel)"] {
                let r = try await api.queryResponse(sql, dataflow: "secret", token: bearer)
                XCTAssertTrue([.forbidden, .badRequest, .notFound].contains(r.status), "\(sql): \(r.status) \(r.text)")
                XCTAssertFalse(r.text.contains("\"rows\""), sql)
            }
            // A condition that fails on a row must not run on rows outside the scope: the error
            // would quote the other dataflow's value (PostgreSQL: the scope's views are security
            // barriers; SQLite's cast does not fail).
            let probe = try await api.queryResponse("select count(*) from dataflow where cast(tag as integer) = 0", dataflow: nil, token: bearer)
            XCTAssertFalse(probe.text.contains("secret"), "an error names a hidden dataflow: \(probe.text)")
            // The unscoped reader sees both.
            let all = try await api.query("select count(*) as n from dataflow", dataflow: nil, token: tokens.reader)
            XCTAssertEqual(all.ints("n"), [2])
            // A scoped writer cannot write to the other dataflow.
            let write = try await api.request(.post, "/api/v1/batch", body: SmallFlow.batchJSON("secret", epochs: 1), token: tokens.scopedWriter)
            XCTAssertEqual(write.status, .forbidden)
            XCTAssertNil(write.object["event"], "a scope refusal is about the token: clients keep such data")
            try await assertEqual(try await api.request(.post, "/api/v1/batch", body: SmallFlow.batchJSON("alexnet", epochs: 1, execution: "w2"),
                                                 token: tokens.scopedWriter).status, .ok)
        }
    }

    func testTokensInPathQueryAndRevocation() async throws {
        try await withSecuredServer { api, tokens, _ in
            // Old DfAnalyzer clients: the token in the URL.
            try await assertEqual(try await api.request(.get, "/t/\(tokens.reader)/api/dataflows/list").status, .ok)
            try await assertEqual(try await api.request(.get, "/api/v1/dataflows?token=\(tokens.reader)").status, .ok)
            try await assertEqual(try await api.request(.get, "/t/dnp_wrong/api/dataflows/list").status, .unauthorized)
            // A role refusal under /t/<secret>/ does not echo the path: it would put the secret in the log.
            let low = try await api.request(.post, "/t/\(tokens.reader)/pde/task", body: "task(alexnet,trainingmodel,1,0,RUNNING)", contentType: nil)
            XCTAssertEqual(low.status, .forbidden)
            XCTAssertFalse(low.text.contains(tokens.reader), low.text)
            // Admins manage tokens over HTTP; a revoked token stops at once.
            let created = try await api.request(.post, "/api/v1/tokens", body: #"{"role": "reader", "name": "bob"}"#, token: tokens.admin)
            XCTAssertEqual(created.status, .created, created.text)
            let secret = try XCTUnwrap(created.object["secret"] as? String)
            let id = try XCTUnwrap((created.object["token"] as? [String: Any])?["id"] as? Int)
            try await assertEqual(try await api.request(.get, "/api/v1/dataflows", token: secret).status, .ok)
            let listed = try await api.request(.get, "/api/v1/tokens", token: tokens.admin)
            XCTAssertFalse(listed.text.contains(secret), "secrets are never listed")
            try await assertEqual(try await api.request(.delete, "/api/v1/tokens/\(id)", token: tokens.admin).status, .ok)
            try await assertEqual(try await api.request(.get, "/api/v1/dataflows", token: secret).status, .unauthorized)
        }
    }

    func testCookieSessionNeedsCSRFHeaderForWrites() async throws {
        try await withSecuredServer { api, tokens, _ in
            let login = try await api.client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "token=\(tokens.writer)")) { $0 }
            XCTAssertEqual(login.status, .seeOther)
            let cookies = login.headers[values: .setCookie]
            let session = try XCTUnwrap(cookies.first { $0.hasPrefix("dnnprov_session=") })
            XCTAssertTrue(session.contains("HttpOnly") && session.contains("SameSite=Strict"), session)
            let csrf = try XCTUnwrap(cookies.first { $0.hasPrefix("dnnprov_csrf=") }?.split(separator: ";").first?.dropFirst("dnnprov_csrf=".count))
            let cookie = "dnnprov_session=\(tokens.writer); dnnprov_csrf=\(csrf)"
            let read = try await api.client.execute(uri: "/api/v1/dataflows", method: .get, headers: [.cookie: cookie]) { $0.status }
            XCTAssertEqual(read, .ok)
            let body = ByteBuffer(string: SmallFlow.batchJSON("alexnet", epochs: 1, execution: "cookie"))
            let noHeader = try await api.client.execute(uri: "/api/v1/batch", method: .post, headers: [.cookie: cookie], body: body) { $0.status }
            XCTAssertEqual(noHeader, .forbidden)
            var headers: HTTPFields = [.cookie: cookie]
            headers[HTTPField.Name("X-CSRF-Token")!] = String(csrf)
            let withHeader = try await api.client.execute(uri: "/api/v1/batch", method: .post, headers: headers, body: body) { $0.status }
            XCTAssertEqual(withHeader, .ok)
            try await assertEqual(try await api.request(.post, "/login", body: "token=dnp_nope", contentType: "application/x-www-form-urlencoded").status,
                           .unauthorized)

            // Back to the view that asked for the token; never to another site.
            for (next, expected) in [("%2F%23%2Fd%2Falexnet%2Fgraph", "/#/d/alexnet/graph"), ("https%3A%2F%2Fevil.example%2F", "/"),
                                     ("%2F%2Fevil.example", "/"), ("%2F%5Cevil.example", "/")] {
                let signedIn = try await api.client.execute(
                    uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "token=\(tokens.reader)&next=\(next)")) { $0 }
                XCTAssertEqual(signedIn.headers[.location], expected, next)
            }
            let page = try await api.request(.get, "/login?next=%2F%23%2Fd%2Fa%22%3E%3Cscript%3E")
            XCTAssertTrue(page.text.contains(#"value="/#/d/a&quot;&gt;&lt;script&gt;""#), page.text)
        }
    }

    // MARK: the probe's defects

    func testQueriesCannotReachMemoryFilesOrSchema() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("/api/v1/dataflows", json: SmallFlow.specJSON("alexnet"), expect: .created)
            for sql in ["SELECT fts3_tokenizer('simple')", "SELECT fts3_tokenizer('simple', x'0000000000000000')",
                        "SELECT * FROM pragma_database_list", "SELECT load_extension('/tmp/x.so')", "SELECT * FROM api_token",
                        "PRAGMA database_list", "SELECT sqlite_compileoption_get(0)",
                        "CREATE VIRTUAL TABLE temp.t USING fts3tokenize(simple)", "SELECT * FROM fts3tokenize"] {
                let r = try await api.queryResponse(sql, dataflow: nil)
                XCTAssertTrue([.forbidden, .badRequest].contains(r.status), "\(sql): \(r.status) \(r.text)")
                XCTAssertFalse(r.text.contains(db.location), "\(sql) revealed the path")
            }
            let health = try await api.get("/health")
            XCTAssertEqual(health.status, .ok)
            XCTAssertFalse(health.text.contains(db.directory.path), "health reveals the database path: \(health.text)")
        }
    }

    func testQueryAnswersHaveAByteBudget() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            if TestDatabase.backend == .sqlite {
                // One value past QueryPoolConfiguration.maxValueBytes: SQLite's own limit on what a
                // statement may build. PostgreSQL bounds values itself (1 GB) and the byte budget
                // below bounds the answer (see PostgresQueryEngine).
                let big = try await api.queryResponse("SELECT randomblob(1000000000)", dataflow: nil)
                XCTAssertEqual(big.status, .contentTooLarge, big.text)
            }
            // 30 values of 1 MiB (a text doubled 16 times), past the 16 MiB budget.
            let many = try await api.queryResponse("""
                WITH RECURSIVE s(x, n) AS (SELECT CAST('0123456789abcdef' AS TEXT), 0 UNION ALL SELECT x || x, n + 1 FROM s WHERE n < 16),
                c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 30)
                SELECT s.x FROM s, c WHERE s.n = 16
                """, dataflow: nil)
            XCTAssertEqual(many.status, .ok, many.text)
            XCTAssertEqual(many.object["limit"] as? String, "bytes")
            XCTAssertEqual(many.object["truncated"] as? Bool, true)
            XCTAssertLessThan(many.text.utf8.count, 40 << 20)
            let endless = try await api.post("/api/v1/query", json: [
                "sql": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c", "timeout_ms": 300])
            XCTAssertEqual(endless.status, .requestTimeout, endless.text)
        }
    }

    func testInputThatUsedToCrashOrLeakIsRefusedClearly() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("/api/v1/dataflows", json: SmallFlow.specJSON("alexnet"), expect: .created)
            // A time that does not fit: 400, and the server keeps serving.
            var event = SmallFlow.eventJSON("alexnet", execution: "x", epoch: 1)
            event["time"] = 1e300
            let r = try await api.post("/api/v1/batch", json: ["events": [event]], expect: .badRequest)
            XCTAssertTrue(r.error.contains("time"), r.error)
            event["time"] = -1
            try await api.post("/api/v1/batch", json: ["events": [event]], expect: .badRequest)

            // 2,000 attributes: 422 naming the limit, not a SQLite error.
            let attrs = (0..<2000).map { ["name": "a\($0)", "type": "NUMERIC"] }
            let wide = try await api.post("/api/v1/dataflows", json: ["tag": "wide", "transformations": [
                ["tag": "t", "sets": [["tag": "s", "type": "OUTPUT", "attributes": attrs]]]]], expect: .unprocessableContent)
            XCTAssertTrue(wide.error.contains("--max-attributes"), wide.error)

            // Physical names that meet: both dataflows work, each with its own rows.
            for (tag, set) in [("a__ds_b", "c"), ("a", "b__ds_c")] {
                try await api.post("/api/v1/dataflows", json: ["tag": tag, "transformations": [
                    ["tag": "t", "sets": [["tag": set, "type": "OUTPUT", "attributes": [["name": "x", "type": "NUMERIC"]]]]]]], expect: .created)
                try await api.post("/api/v1/batch", json: ["events": [["dataflow": tag, "execution": "e", "transformation": "t", "task": "1",
                                                                       "sets": [["tag": set, "elements": [[tag == "a" ? 2 : 1]]]]]]], expect: .ok)
            }
            try await assertEqual(try await api.query("select x from ds_c", dataflow: "a__ds_b").doubles("x"), [1])
            try await assertEqual(try await api.query("select x from ds_b__ds_c", dataflow: "a").doubles("x"), [2])

            // Reserved names, and a 10 MB tag that must not come back whole.
            let reserved = try await api.post("/api/v1/dataflows", json: SmallFlow.specJSON("sqlite_x"), expect: .badRequest)
            XCTAssertTrue(reserved.error.contains("sqlite_"), reserved.error)
            let huge = String(repeating: "x", count: 10 << 20)
            let long = try await api.post("/api/v1/dataflows", json: SmallFlow.specJSON(huge))
            XCTAssertTrue(long.status.code >= 400 && long.status.code < 500, "\(long.status)")
            XCTAssertLessThan(long.text.utf8.count, 2_000)
        }
    }

    func testIdempotencyKeysAreScopedAndChecked() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            for tag in ["one", "two"] { try await api.post("/api/v1/dataflows", json: SmallFlow.specJSON(tag), expect: .created) }
            var a = SmallFlow.eventJSON("one", execution: "e", epoch: 1)
            a["key"] = "k-1"
            var b = SmallFlow.eventJSON("two", execution: "e", epoch: 1)
            b["key"] = "k-1"
            try await assertEqual(try await api.post("/api/v1/batch", json: ["events": [a]], expect: .ok).object["stored"] as? Int, 1)
            // The same key in another dataflow is another event.
            try await assertEqual(try await api.post("/api/v1/batch", json: ["events": [b]], expect: .ok).object["stored"] as? Int, 1)
            // A retry is a duplicate; other content under the same key is a conflict, and nothing of it is stored.
            try await assertEqual(try await api.post("/api/v1/batch", json: ["events": [a]], expect: .ok).object["duplicates"] as? Int, 1)
            var changed = SmallFlow.eventJSON("one", execution: "e", epoch: 2)
            changed["key"] = "k-1"
            let conflict = try await api.post("/api/v1/batch", json: ["events": [changed]], expect: .conflict)
            XCTAssertEqual(conflict.object["event"] as? Int, 0)
            try await assertEqual(try await api.query("select count(*) as n from ds_otrainingmodel", dataflow: "one").ints("n"), [1])
        }
    }

    func testInputLimitsAreNamed() async throws {
        let db = try TestDatabase()
        let config = ServerConfiguration(port: 0, limits: Limits(maxBodyBytes: 64 << 10, maxEventsPerRequest: 5, maxRowsPerRequest: 10, maxValueBytes: 100))
        try await withLiveServer(database: db.location, configuration: config) { api in
            try await api.post("/api/v1/dataflows", json: SmallFlow.specJSON("alexnet"), expect: .created)
            let events = (1...6).map { SmallFlow.eventJSON("alexnet", execution: "e", epoch: $0) }
            try await assertTrue(try await api.post("/api/v1/batch", json: ["events": events], expect: .contentTooLarge).error.contains("--max-events"))
            var rows = SmallFlow.eventJSON("alexnet", execution: "e", epoch: 1)
            rows["sets"] = [["tag": "otrainingmodel", "elements": (1...11).map { [Double($0), 0.5] }]]
            try await assertTrue(try await api.post("/api/v1/batch", json: ["events": [rows]], expect: .contentTooLarge).error.contains("--max-rows"))
            var text = SmallFlow.eventJSON("alexnet", execution: "e", epoch: 1)
            text["error"] = String(repeating: "e", count: 101)
            try await assertTrue(try await api.post("/api/v1/batch", json: ["events": [text]], expect: .contentTooLarge).error.contains("--max-value-kb"))
            let body = try await api.request(.post, "/api/v1/batch", body: String(repeating: " ", count: 70 << 10) + "{}")
            XCTAssertEqual(body.status, .contentTooLarge)
            XCTAssertTrue(body.error.contains("--max-body-mb"), body.error)
        }
    }

    func testCrossOriginRequestsAreRefused() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("/api/v1/dataflows", json: SmallFlow.specJSON("alexnet"), expect: .created)
            for origin in ["http://evil.example", "null"] {
                let r = try await api.client.execute(
                    uri: "/api/v1/batch", method: .post, headers: [.contentType: "text/plain", .origin: origin],
                    body: ByteBuffer(string: SmallFlow.batchJSON("alexnet", epochs: 2))) { $0.status }
                XCTAssertEqual(r, .forbidden, origin)
            }
            try await assertEqual(try await api.query("select count(*) as n from ds_otrainingmodel").ints("n"), [0])
        }
    }

    /// A bug of ours answers 500 with an incident id, never the error's own text.
    func testInternalErrorsCarryNoInternalText() async throws {
        struct Leaky: Error, CustomStringConvertible { var description: String { "SQLite error 1: no such table /secret/path.sqlite" } }
        let router = Router(context: AppRequestContext.self)
        router.addMiddleware { ErrorMiddleware() }
        router.get("/boom") { _, _ -> String in throw Leaky() }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/boom", method: .get) { r in
                XCTAssertEqual(r.status, .internalServerError)
                let text = String(buffer: r.body)
                XCTAssertTrue(text.contains("incident"), text)
                XCTAssertFalse(text.contains("/secret/path") || text.contains("SQLite"), text)
            }
        }
    }

    /// Writers past the queue get 429 with Retry-After; DfAnalyzer writers wait instead.
    func testAdmissionGateRefusesPastItsQueue() async throws {
        let gate = AdmissionGate(limit: 1, maxWaiting: 1)
        let release = AsyncStream<Void>.makeStream()
        async let first: Void = gate.run { for await _ in release.stream { break } }
        try await Task.sleep(for: .milliseconds(50))
        async let second: Void = gate.run {}
        try await Task.sleep(for: .milliseconds(50))
        do {
            try await gate.run {}
            XCTFail("a third request was admitted past the queue")
        } catch let e as ProvError {
            XCTAssertEqual(e.kind, .tooManyRequests)
            XCTAssertEqual(e.retryAfter, 1)
        }
        async let waiting: Void = gate.run(waitIfFull: true) {}
        release.continuation.yield()
        release.continuation.finish()
        _ = try await (first, second, waiting)
    }
}

/// XCTAssertEqual for values that need `await` (XCTest's autoclosures are synchronous).
func assertEqual<T: Equatable>(_ actual: @autoclosure () async throws -> T, _ expected: T, _ message: String = "",
                               file: StaticString = #filePath, line: UInt = #line) async throws {
    let value = try await actual()
    XCTAssertEqual(value, expected, message, file: file, line: line)
}

func assertTrue(_ condition: @autoclosure () async throws -> Bool, _ message: String = "",
                file: StaticString = #filePath, line: UInt = #line) async throws {
    let value = try await condition()
    XCTAssertTrue(value, message, file: file, line: line)
}

import DNNProvModel
import DNNProvStore
import Hummingbird

/// `POST /api/v1/query`: one read-only SQL statement, answered as JSON.
struct QueryController {
    let store: ProvStore

    struct QueryRequest: Decodable {
        var sql: String
        var dataflow: String?
        var limit: Int?
        var timeoutMs: Int?

        enum CodingKeys: String, CodingKey {
            case sql, dataflow, limit
            case timeoutMs = "timeout_ms"
        }
    }

    /// The longest a query may run, whatever the client asks.
    static let maxTimeoutMs = 300_000

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("/api/v1/query") { request, context in
            let q = try await JSONBody.decode(QueryRequest.self, from: request, context: context)
            let timeout = q.timeoutMs ?? 10_000
            guard timeout > 0, timeout <= Self.maxTimeoutMs else {
                throw ProvError.badRequest("timeout_ms must be between 1 and \(Self.maxTimeoutMs)")
            }
            let options = QueryOptions(dataflow: q.dataflow, limit: q.limit ?? 10_000, timeout: .milliseconds(timeout))
            return try JSONBody.response(try await store.query(q.sql, options: options))
        }
    }
}

import DNNProvModel
import DNNProvStore
import Foundation
import Hummingbird

/// `POST /api/v1/query`: one read-only SQL statement, answered as JSON, within the caller's
/// scope, its per-client concurrency limit, a row limit, a byte budget and a timeout.
struct QueryController {
    let store: ProvStore
    let limiter: ClientLimiter
    let maxResultBytes: Int

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

    func addRoutes(to readers: RouterGroup<AppRequestContext>) {
        readers.post("query") { request, context in
            let principal = try context.requirePrincipal()
            let q = try await JSONBody.decode(QueryRequest.self, from: request, limit: 1 << 20)
            let timeout = q.timeoutMs ?? 10_000
            guard timeout > 0, timeout <= Self.maxTimeoutMs else {
                throw ProvError.badRequest("timeout_ms must be between 1 and \(Self.maxTimeoutMs)")
            }
            let options = QueryOptions(dataflow: q.dataflow, limit: q.limit ?? 10_000, timeout: .milliseconds(timeout),
                                       maxBytes: maxResultBytes, scope: principal.scope)
            let client = principal.tokenID.map { "token \($0)" } ?? context.remoteAddress ?? "local"
            let deadline = ContinuousClock.now + .milliseconds(timeout)
            let response = try await limiter.run(client: client) {
                try JSONBody.response(try await store.query(q.sql, options: options))
            }
            // The time limit covers the answer too (bounded by the byte budget, so rarely hit).
            guard ContinuousClock.now < deadline + .milliseconds(500) else {
                throw ProvError(.timeout, "the query's answer took longer than its time limit to build")
            }
            return response
        }
    }
}

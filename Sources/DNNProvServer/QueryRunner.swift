import DNNProvModel
import DNNProvStore
import Hummingbird

/// Runs a read-only statement for a request, as every query route does (`POST /api/v1/query`
/// and DfAnalyzer's query language): in the caller's scope, through the per-client limiter they
/// share, within the byte budget and a time limit that covers building the answer too.
struct QueryRunner: Sendable {
    let store: ProvStore
    let limiter: ClientLimiter
    let maxResultBytes: Int

    /// The row limit when the request names none.
    static let defaultLimit = 10_000
    /// The time limit when the request names none, in milliseconds.
    static let defaultTimeoutMs = 10_000
    /// The longest a query may run, whatever the client asks.
    static let maxTimeoutMs = 300_000

    func run(_ sql: String, dataflow: String?, limit: Int?, timeoutMs: Int?, context: AppRequestContext,
             answer: @Sendable @escaping (QueryResult) throws -> Response) async throws -> Response {
        let principal = try context.requirePrincipal()
        let timeout = timeoutMs ?? Self.defaultTimeoutMs
        guard timeout > 0, timeout <= Self.maxTimeoutMs else {
            throw ProvError.badRequest("timeout_ms must be between 1 and \(Self.maxTimeoutMs)")
        }
        let options = QueryOptions(dataflow: dataflow, limit: limit ?? Self.defaultLimit, timeout: .milliseconds(timeout),
                                   maxBytes: maxResultBytes, scope: principal.scope)
        let client = principal.tokenID.map { "token \($0)" } ?? context.remoteAddress ?? "local"
        let deadline = ContinuousClock.now + .milliseconds(timeout)
        let response = try await limiter.run(client: client) {
            try answer(try await store.query(sql, options: options))
        }
        // The time limit covers the answer too (bounded by the byte budget, so rarely hit).
        guard ContinuousClock.now < deadline + .milliseconds(500) else {
            throw ProvError(.timeout, "the query's answer took longer than its time limit to build")
        }
        return response
    }
}

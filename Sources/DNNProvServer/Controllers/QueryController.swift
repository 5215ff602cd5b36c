import DNNProvModel
import DNNProvStore
import Foundation
import Hummingbird

/// `POST /api/v1/query`: one read-only SQL statement, answered as JSON, within the caller's
/// scope, its per-client concurrency limit, a row limit, a byte budget and a timeout.
struct QueryController {
    let runner: QueryRunner

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

    func addRoutes(to readers: RouterGroup<AppRequestContext>) {
        readers.post("query") { request, context in
            let q = try await JSONBody.decode(QueryRequest.self, from: request, limit: 1 << 20)
            return try await runner.run(q.sql, dataflow: q.dataflow, limit: q.limit, timeoutMs: q.timeoutMs, context: context) {
                try JSONBody.response($0)
            }
        }
    }
}

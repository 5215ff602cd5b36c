import DNNProvModel
import NIOConcurrencyHelpers

/// At most `limit` requests at once per client (its token, or its address when auth is off):
/// one analyst's slow queries cannot take every query connection.
final class ClientLimiter: Sendable {
    let limit: Int
    private let running = NIOLockedValueBox([String: Int]())

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    func run<T: Sendable>(client: String, _ body: () async throws -> T) async throws -> T {
        let admitted = running.withLockedValue { r in
            let n = r[client, default: 0]
            guard n < limit else { return false }
            r[client] = n + 1
            return true
        }
        guard admitted else {
            throw ProvError.tooManyRequests("this client already runs \(limit) queries at once (--queries-per-client); wait for one to finish")
        }
        defer {
            running.withLockedValue { r in
                let n = r[client, default: 1] - 1
                r[client] = n > 0 ? n : nil
            }
        }
        return try await body()
    }
}

import DNNProvModel

/// Lets at most `limit` callers at a time run; the others wait, first come first served.
///
/// The server's ingestion lets requests read and decode their bodies through one: the others
/// wait before reading, so their bytes stay in the socket buffers (TCP backpressure) instead of
/// in memory. The store has one writer, so more concurrency would only hold more decoded
/// batches in memory, not store them faster: 64 clients would otherwise push the server past
/// 150 MB. The PostgreSQL readers bound their connections with one.
///
/// At most `maxWaiting` callers wait; past that a caller is refused with 429 (the server adds
/// `Retry-After`; clients wait and send again), unless it asks to wait anyway (the DfAnalyzer
/// clients never read answers, so a refusal would lose their data).
package actor AdmissionGate {
    private let maxWaiting: Int
    private var available: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    package init(limit: Int, maxWaiting: Int) {
        available = limit
        self.maxWaiting = maxWaiting
    }

    package nonisolated func run<T>(waitIfFull: Bool = false, _ body: () async throws -> T) async throws -> T {
        try await enter(waitIfFull: waitIfFull)
        do {
            let result = try await body()
            await leave()
            return result
        } catch {
            await leave()
            throw error
        }
    }

    private func enter(waitIfFull: Bool) async throws {
        if available > 0 {
            available -= 1
            return
        }
        guard waitIfFull || waiting.count < maxWaiting else {
            throw ProvError.tooManyRequests("the server is busy storing other requests; send again in a second")
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func leave() {
        if waiting.isEmpty {
            available += 1
        } else {
            // The place passes straight to the oldest waiter.
            waiting.removeFirst().resume()
        }
    }
}

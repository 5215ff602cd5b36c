import DNNProvModel

/// Lets at most `limit` requests at a time read and decode their bodies; the others wait before
/// reading, so their bytes stay in the socket buffers (TCP backpressure) instead of in memory.
/// The store has one writer, so more concurrency would only hold more decoded batches in
/// memory, not store them faster: 64 clients would otherwise push the server past 150 MB.
///
/// At most `maxWaiting` requests wait; past that a request is refused with 429 and
/// `Retry-After` (the clients wait and send again), unless it asks to wait anyway (the
/// DfAnalyzer clients never read answers, so a refusal would lose their data).
actor AdmissionGate {
    private let maxWaiting: Int
    private var available: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int, maxWaiting: Int) {
        available = limit
        self.maxWaiting = maxWaiting
    }

    nonisolated func run<T>(waitIfFull: Bool = false, _ body: () async throws -> T) async throws -> T {
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

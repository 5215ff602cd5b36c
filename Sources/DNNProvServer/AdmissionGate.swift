/// Lets at most `limit` requests at a time read and decode their bodies; the others wait before
/// reading, so their bytes stay in the socket buffers (TCP backpressure) instead of in memory.
/// The store has one writer, so more concurrency would only hold more decoded batches in
/// memory, not store them faster: 64 clients would otherwise push the server past 150 MB.
actor AdmissionGate {
    private var available: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        available = limit
    }

    nonisolated func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await enter()
        do {
            let result = try await body()
            await leave()
            return result
        } catch {
            await leave()
            throw error
        }
    }

    private func enter() async {
        if available > 0 {
            available -= 1
            return
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

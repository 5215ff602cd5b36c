import DNNProvModel
import NIOConcurrencyHelpers

/// Admission of user queries on PostgreSQL: at most `workers` run at once and `maxWaiting` more
/// wait; past that the caller hears 429 at once, as with the SQLite engine (`QueryEngine`).
///
/// The gate counts queries, not connections: `PostgresClient` owns the connections. Waiting is
/// bounded by the query's deadline (a query that waited its whole time budget would only be
/// stopped by `statement_timeout` the moment it starts) and by task cancellation.
final class PostgresQueryGate: Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var running = 0
        var waiting: [Waiter] = []
        var nextID: UInt64 = 0
        /// Waiters admitted to the line whose continuation is not stored yet.
        var pending: Set<UInt64> = []
        /// Pending waiters that expired or were cancelled before their continuation was stored.
        var gone: [UInt64: any Error] = [:]
    }

    let workers: Int
    let maxWaiting: Int
    private let state = NIOLockedValueBox(State())

    init(workers: Int, maxWaiting: Int) {
        self.workers = max(1, workers)
        self.maxWaiting = max(0, maxWaiting)
    }

    /// Takes a place among the running queries, waiting for one until `deadline`.
    ///
    /// - Throws: `ProvError.tooManyRequests` when the waiting line is full, the timeout error
    ///   when `deadline` passes first, `CancellationError` when the task is cancelled.
    func enter(deadline: ContinuousClock.Instant) async throws {
        enum Next { case run, wait(UInt64), refuse }
        let next: Next = state.withLockedValue { s in
            if s.running < workers {
                s.running += 1
                return .run
            }
            guard s.waiting.count + s.pending.count < maxWaiting else { return .refuse }
            s.nextID &+= 1
            s.pending.insert(s.nextID)
            return .wait(s.nextID)
        }
        switch next {
        case .run:
            return
        case .refuse:
            throw ProvError.tooManyRequests("\(workers) queries are running and \(maxWaiting) waiting; try again shortly")
        case .wait(let id):
            // The timer ends the wait at the deadline; it is cancelled once the wait is over.
            let timer = Task { [weak self] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                guard !Task.isCancelled else { return }
                self?.abandon(id, with: PostgresQueryEngine.timeoutError)
            }
            defer { timer.cancel() }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, any Error>) in
                    let early: Result<Void, any Error>? = state.withLockedValue { s in
                        s.pending.remove(id)
                        if let error = s.gone.removeValue(forKey: id) { return .failure(error) }
                        // A place freed between the first look and now.
                        if s.running < workers {
                            s.running += 1
                            return .success(())
                        }
                        s.waiting.append(Waiter(id: id, continuation: cont))
                        return nil
                    }
                    if let early { cont.resume(with: early) }
                }
            } onCancel: {
                abandon(id, with: CancellationError())
            }
        }
    }

    /// Gives the place back: to the longest waiting query, or to no one.
    func leave() {
        let next: CheckedContinuation<Void, any Error>? = state.withLockedValue { s in
            if s.waiting.isEmpty {
                s.running -= 1
                return nil
            }
            // The place passes on directly, so `running` stays as it is.
            return s.waiting.removeFirst().continuation
        }
        next?.resume()
    }

    /// Ends a wait that expired or was cancelled; a waiter already admitted is left alone.
    private func abandon(_ id: UInt64, with error: any Error) {
        let found: CheckedContinuation<Void, any Error>? = state.withLockedValue { s in
            if let i = s.waiting.firstIndex(where: { $0.id == id }) {
                return s.waiting.remove(at: i).continuation
            }
            // Not stored yet: `enter` finds the error when it stores its continuation. Neither
            // waiting nor pending: already admitted, and the wait is over.
            if s.pending.contains(id) { s.gone[id] = error }
            return nil
        }
        found?.resume(throwing: error)
    }
}

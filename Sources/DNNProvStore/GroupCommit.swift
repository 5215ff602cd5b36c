import DNNProvModel
import Foundation
import Logging

/// Group commit: every write request becomes a job; one thread runs all jobs that are waiting in
/// one transaction, each job inside its own savepoint, and answers each job only after the
/// commit. So an acknowledgement means stored, a storage error reaches the request that caused
/// it, and many concurrent requests share one fsync.
package final class GroupCommit: @unchecked Sendable {
    typealias Work = (any SQLDatabase, WriterState) throws -> any Sendable

    private struct Job {
        let work: Work
        let done: (Result<any Sendable, any Error>) -> Void
    }

    private let transactions: any WriteTransactions
    private let state: WriterState
    private let feed: ChangeFeed
    private let publish: (Catalog) -> Void
    private let logger: Logger
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var stopped = false
    private var thread: Thread?

    /// Largest number of jobs per transaction; bounds the time one commit holds the writer.
    let maxJobsPerCommit = 512

    /// `publish`: makes the catalog of the last commit the readers'. `feed` gets each commit's live events.
    package init(transactions: any WriteTransactions, state: WriterState, feed: ChangeFeed, logger: Logger,
                 publish: @escaping (Catalog) -> Void) {
        self.transactions = transactions
        self.feed = feed
        self.state = state
        self.logger = logger
        self.publish = publish
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "dnnprov-writer"
        self.thread = thread
        thread.start()
    }

    package func submit<T: Sendable>(_ work: @escaping (any SQLDatabase, WriterState) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, any Error>) in
            let job = Job(work: { db, state in try work(db, state) }, done: { result in
                cont.resume(with: result.map { $0 as! T })
            })
            condition.lock()
            if stopped {
                condition.unlock()
                cont.resume(throwing: ProvStoreError.closed)
                return
            }
            pending.append(job)
            condition.signal()
            condition.unlock()
        }
    }

    /// Stops the thread once the jobs already submitted are done.
    package func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
        while thread?.isFinished == false { usleep(1000) }
    }

    private func loop() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopped { condition.wait() }
            if pending.isEmpty && stopped {
                condition.unlock()
                return
            }
            let jobs = Array(pending.prefix(maxJobsPerCommit))
            pending.removeFirst(jobs.count)
            condition.unlock()
            run(jobs)
        }
    }

    private func run(_ jobs: [Job]) {
        var results: [Result<any Sendable, any Error>] = []
        results.reserveCapacity(jobs.count)
        // Events of the jobs that succeeded; published only once their transaction commits.
        var events: [LiveEvent] = []
        state.liveDataflows = feed.followedDataflows
        do {
            try transactions.transaction(state) { db in
                for job in jobs {
                    let saved = state.catalog
                    do {
                        var value: (any Sendable)?
                        try transactions.savepoint(db) { value = try job.work(db, state) }
                        results.append(.success(value!))
                        events += state.events
                        state.events.removeAll()
                    } catch {
                        // Undo what the job left in memory; the savepoint undid the rest.
                        state.catalog = saved
                        state.forgetCaches()
                        results.append(.failure(error))
                    }
                }
                try transactions.finish(db, state, events: events)
            }
            state.storedSeq = state.seq
            publish(state.catalog)
            feed.publish(events)
        } catch {
            logger.error("commit failed: \(error)")
            // Nothing of this group is stored: reload what is.
            state.forgetCaches()
            if let catalog = try? transactions.loadCatalog() { state.catalog = catalog }
            results = jobs.map { _ in .failure(ProvStoreError.storage("\(error)")) }
        }
        for (job, result) in zip(jobs, results) { job.done(result) }
    }
}

public enum ProvStoreError: Error, CustomStringConvertible {
    case closed
    case storage(String)

    public var description: String {
        switch self {
        case .closed: return "the store is closed"
        case .storage(let m): return "storage error: \(m)"
        }
    }
}

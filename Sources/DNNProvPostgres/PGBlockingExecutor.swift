import Foundation

/// Threads of their own for the async PostgresNIO calls that `PGConnection` waits for
/// synchronously (the writer's reads and `COPY`s, the readers' queries).
///
/// Those calls used to run as tasks on Swift's shared pool, which has a thread per core and is
/// where the server decodes requests: while clients' batches were being decoded, the writer's
/// next read waited for a free thread, about 10 ms a round trip at the start of a group on two
/// cores, a fifth of the writer's time. Here the writer's round trip waits only for PostgreSQL:
/// the writer has an executor of its own, the readers share `shared`.
final class PGBlockingExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = PGBlockingExecutor(threads: 2, name: "dnnprov-pg-read")

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    init(threads: Int, name: String) {
        for i in 0..<threads {
            // The thread holds the executor until `shutdown`.
            let thread = Thread { self.work() }
            thread.name = "\(name)-\(i)"
            thread.start()
        }
    }

    /// Lets the threads end once the jobs already queued have run.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

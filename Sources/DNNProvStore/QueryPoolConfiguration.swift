/// The pool of connections that run user queries: how many run and wait at once, and how large
/// a value they may build.
public struct QueryPoolConfiguration: Sendable {
    /// Queries running at once, server-wide (`--query-workers`).
    public var workers: Int
    /// Queries waiting for a connection; past this the answer is 429.
    public var maxWaiting: Int
    /// The longest string or blob a query may build or return (SQLITE_LIMIT_LENGTH).
    public var maxValueBytes: Int

    public init(workers: Int = 4, maxWaiting: Int = 32, maxValueBytes: Int = 32 << 20) {
        self.workers = max(1, workers)
        self.maxWaiting = max(0, maxWaiting)
        self.maxValueBytes = maxValueBytes
    }
}

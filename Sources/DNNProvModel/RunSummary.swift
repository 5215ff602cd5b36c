/// One run (a dataflow execution) as the runs table shows it, kept up to date at ingestion:
/// `GET /api/v1/dataflows/{tag}/runs` lists them and the live stream sends them as they change.
public struct RunSummary: Sendable, Codable, Equatable {
    /// The execution's id.
    public var id: Int64
    /// The execution's tag.
    public var execution: String
    /// RUNNING while any task runs (or none was sent yet), FAILED when a task failed, else FINISHED.
    public var status: String
    /// A RUNNING run that has sent nothing for longer than the server's `--stale-after`.
    public var stale: Bool
    public var startTime: String?
    public var endTime: String?
    /// When the run last sent something (server clock).
    public var updatedAt: String?
    /// Seconds from start to end, or to now while the run runs.
    public var duration: Double?
    public var user: String?
    public var host: String?
    public var script: String?
    public var tasks: Int
    /// Per input set with one row in this run (the hyperparameters): attribute -> value.
    public var params: [String: [String: Value]]
    /// Input sets with several rows in this run (the layers): set -> rows.
    public var tables: [String: Int]
    /// Per output set, per NUMERIC attribute: last, min, max and count of its finite values.
    public var metrics: [String: [String: MetricSummary]]

    enum CodingKeys: String, CodingKey {
        case id, execution, status, stale, duration, user, host, script, tasks, params, tables, metrics
        case startTime = "start_time", endTime = "end_time", updatedAt = "updated_at"
    }
}

/// A numeric attribute over one run: its last finite value, extremes and count.
public struct MetricSummary: Sendable, Codable, Equatable {
    public var last: Double?
    public var min: Double?
    public var max: Double?
    public var count: Int

    public init(last: Double? = nil, min: Double? = nil, max: Double? = nil, count: Int = 0) {
        self.last = last
        self.min = min
        self.max = max
        self.count = count
    }

    /// Takes the values summarised by `later`, which came after these.
    public mutating func merge(_ later: MetricSummary) {
        guard later.count > 0 else { return }
        last = later.last
        min = Swift.min(min ?? .infinity, later.min ?? .infinity)
        max = Swift.max(max ?? -.infinity, later.max ?? -.infinity)
        count += later.count
    }

    /// Takes one more value; values that are not finite are left out.
    public mutating func add(_ value: Double) {
        guard value.isFinite else { return }
        last = value
        min = Swift.min(min ?? value, value)
        max = Swift.max(max ?? value, value)
        count += 1
    }
}

/// The answer of `GET /api/v1/dataflows/{tag}/runs`.
public struct RunsAnswer: Sendable, Codable, Equatable {
    public var dataflow: String
    /// The live stream's position when this was read: `GET .../live?since=<seq>` continues from here.
    public var seq: Int64
    public var now: String
    /// Seconds without news after which a running run is stale.
    public var staleAfter: Double
    public var runs: [RunSummary]

    enum CodingKeys: String, CodingKey {
        case dataflow, seq, now, runs
        case staleAfter = "stale_after"
    }
}

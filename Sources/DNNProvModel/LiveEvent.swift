/// One event of a dataflow's live stream (`GET /api/v1/dataflows/{tag}/live`, server-sent events),
/// produced after the commit that caused it. `data` is the event's JSON, encoded once for every
/// subscriber.
public struct LiveEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// A run's summary changed, or a run appeared: `data` is a `RunSummary`.
        case run
        /// New rows of a set for one run: `data` is a `LiveRows`.
        case rows
        /// The dataflow's specification changed: `{"version": n}`.
        case dataflow
        /// The stream cannot continue from where the client was: reload everything.
        case reset
    }

    /// Position in the stream (the SSE `id`); grows with every event of every dataflow.
    public var seq: Int64
    public var dataflowID: Int64
    public var kind: Kind
    public var data: String

    public init(seq: Int64, dataflowID: Int64, kind: Kind, data: String) {
        self.seq = seq
        self.dataflowID = dataflowID
        self.kind = kind
        self.data = data
    }
}

/// The rows of a set one commit added to one run (a `rows` event).
public struct LiveRows: Sendable, Codable, Equatable {
    public var set: String
    public var run: Int64
    public var execution: String
    public var columns: [String]
    public var rows: [[QueryValue]]
    /// More rows were added than an event carries: fetch the series again.
    public var truncated: Bool

    public init(set: String, run: Int64, execution: String, columns: [String], rows: [[QueryValue]], truncated: Bool) {
        self.set = set
        self.run = run
        self.execution = execution
        self.columns = columns
        self.rows = rows
        self.truncated = truncated
    }
}

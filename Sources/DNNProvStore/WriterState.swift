import DNNProvModel

/// What the single writer keeps between jobs: the working catalog and lookup caches.
/// Only the group-commit thread touches it. A failed job restores the catalog it started with
/// and drops the caches, so nothing a rolled-back job did is remembered.
package final class WriterState: @unchecked Sendable {
    package var catalog: Catalog
    /// (dataflow id, execution tag) -> execution id
    var executions: [ExecutionKey: Int64] = [:]
    /// Per dataflow: the execution inferred for clients that name none (DfAnalyzer variant A).
    var inferredExecution: [Int64: Int64] = [:]
    /// Dataflows whose next anonymous task opens a new inferred execution (spec re-posted).
    var newInferredExecutionPending: Set<Int64> = []
    var tasks: [TaskKey: TaskState] = [:]
    /// task id -> (producer transformation, producer task id) it consumes from.
    var taskDependencies: [Int64: [Dependency]] = [:]

    /// Prepared statements for dataset tables, by set, transformation and attribute count.
    var statements: [StatementKey: any SQLRowInserter] = [:]
    /// set id -> the id the next row of its table gets.
    var nextRowIDs: [Int64: Int64] = [:]
    /// (task id, set tag) -> what the task has sent of that set through the DfAnalyzer endpoints
    /// (a cache of `dfa_sent`).
    var sent: [SentKey: SentState] = [:]
    /// The database holds idempotency keys from before they were scoped per dataflow.
    package var hasLegacyKeys = false

    /// execution id -> its summary as accumulated so far (a cache of `run_summary.summary`).
    var runs: [Int64: RunAccumulator] = [:]
    /// Executions the current job changed: their summaries are written when the job ends.
    var touchedRuns: [Int64: Int64] = [:]
    /// Dataflows someone follows live, as the job began: only their new rows are kept for events.
    package var liveDataflows: Set<Int64> = []
    /// What the current job added to each run's sets (merged into the summaries when it ends).
    var runDeltas: [RunSetKey: RunSetDelta] = [:]
    /// Events of the current job, published after its transaction commits.
    package var events: [LiveEvent] = []
    /// The last event number handed out, and the last one stored (`live_seq`): numbers are
    /// never handed out twice, across restarts too, so a reconnecting client's position is
    /// either still valid or recognised as gone.
    package var seq: Int64 = 0
    package var storedSeq: Int64 = 0

    struct StatementKey: Hashable { var set: Int64; var transformation: String; var kind: Int; var attributes: Int }
    struct ExecutionKey: Hashable { var dataflow: Int64; var tag: String }
    struct TaskKey: Hashable { var execution: Int64; var transformation: Int64; var identifier: String }
    struct TaskState { var id: Int64; var status: TaskStatus; var ended: Bool }
    struct Dependency: Hashable { var transformation: String; var task: Int64 }
    struct SentKey: Hashable { var task: Int64; var set: String }
    /// `count` rows sent so far; `prefix` chains their digests in order; `last` is the last one's.
    struct SentState: Equatable { var count: Int64 = 0; var prefix = ""; var last: String? }
    struct RunSetKey: Hashable { var execution: Int64; var set: Int64 }

    package func nextSeq() -> Int64 {
        seq += 1
        return seq
    }

    package init(catalog: Catalog) {
        self.catalog = catalog
    }

    package func forgetCaches() {
        executions.removeAll()
        inferredExecution.removeAll()
        tasks.removeAll()
        taskDependencies.removeAll()
        statements.removeAll()
        nextRowIDs.removeAll()
        sent.removeAll()
        runs.removeAll()
        touchedRuns.removeAll()
        runDeltas.removeAll()
        events.removeAll()
    }
}

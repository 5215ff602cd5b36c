import DNNProvModel

/// What the single writer keeps between jobs: the working catalog and lookup caches.
/// Only the group-commit thread touches it. A failed job restores the catalog it started with
/// and drops the caches, so nothing a rolled-back job did is remembered.
package final class WriterState: @unchecked Sendable {
    package var catalog: Catalog
    /// (dataflow id, execution tag) -> execution id
    var executions: [ExecutionKey: Int64] = [:]
    /// Executions known not to be stored (looked up for a request and not found).
    var absentExecutions: Set<ExecutionKey> = []
    /// Per dataflow: the execution inferred for clients that name none (DfAnalyzer variant A).
    var inferredExecution: [Int64: Int64] = [:]
    /// Dataflows whose next anonymous task opens a new inferred execution (spec re-posted).
    var newInferredExecutionPending: Set<Int64> = []
    var tasks: [TaskKey: TaskState] = [:]
    /// Executions this writer created since the caches were last dropped: all their tasks are
    /// in `tasks` (a task not there is new, without a lookup).
    var freshExecutions: Set<Int64> = []
    /// task id -> (producer transformation, producer task id) it consumes from.
    var taskDependencies: [Int64: [Dependency]] = [:]

    /// Prepared statements for dataset tables, by set, transformation and attribute count.
    var statements: [StatementKey: any SQLRowInserter] = [:]
    /// table -> the id the next row this writer inserts there gets (a set's table, executions,
    /// tasks): see `nextID`.
    package private(set) var nextIDs: [String: Int64] = [:]
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

    /// Records an execution this writer just inserted: it has no tasks and no summary yet.
    func created(execution id: Int64) {
        freshExecutions.insert(id)
        runs[id] = RunAccumulator()
    }

    /// The tables whose ids `nextID` assigns besides the sets' (their identity sequences, on
    /// PostgreSQL, are moved on after each commit).
    package static let executionTable = "dataflow_execution", taskTable = "task"

    /// The id for the next row this writer inserts into `table`: `max(id) + 1` read once, then
    /// counted. Assigned here, not by the database: SQLite's WITHOUT ROWID set tables have no
    /// row ids, and inserts that need no answer wait in the batch with the rest (one round trip
    /// per request on PostgreSQL, not two per run). Unique because writers take turns (the lock
    /// on `store_state`) and drop this cache when another wrote in between.
    func nextID(_ db: any SQLDatabase, table: String) throws -> Int64 {
        let next = try nextIDs[table] ?? (Int64.fetchOne(db, sql: "SELECT max(id) FROM \(db.dialect.tableSQL(table))") ?? 0) + 1
        nextIDs[table] = next + 1
        return next
    }

    package func nextSeq() -> Int64 {
        seq += 1
        return seq
    }

    package init(catalog: Catalog) {
        self.catalog = catalog
    }

    package func forgetCaches() {
        executions.removeAll()
        statements.removeAll()
        forgetWhatOthersMayChange()
    }

    /// Drops what another writer on the same database may have changed since this one's last
    /// commit, and keeps what a commit never changes: which execution a tag names, and the
    /// statements of the sets (a set's attributes are only ever added, and the key holds their number).
    package func forgetWhatOthersMayChange() {
        absentExecutions.removeAll()
        nextIDs.removeAll()
        inferredExecution.removeAll()
        tasks.removeAll()
        freshExecutions.removeAll()
        taskDependencies.removeAll()
        sent.removeAll()
        runs.removeAll()
        touchedRuns.removeAll()
        runDeltas.removeAll()
        events.removeAll()
    }
}

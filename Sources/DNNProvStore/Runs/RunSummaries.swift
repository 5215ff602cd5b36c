import DNNProvModel
import Foundation

/// Keeps `run_summary` up to date inside the writer's transaction: ingestion reports each stored
/// row and each execution an event touched; when the job ends, each touched run's summary is
/// written once, and the live events of the job are made (published after the commit).
struct RunSummaries {
    let db: any SQLDatabase
    let state: WriterState

    /// Runs whose summaries the writer keeps in memory between jobs.
    static let maxCachedRuns = 1024

    /// `args`: the row as inserted (owner task id, row id, attribute values).
    func record(_ args: [SQLValue], set: SetEntry, execution: Int64, dataflow: Int64) throws {
        if set.producers.isEmpty {
            if state.runs[execution] == nil { state.runs[execution] = try accumulator(execution) }
            state.runs[execution]!.addInput(args[2...], of: set)
        }
        let key = WriterState.RunSetKey(execution: execution, set: set.id)
        if state.runDeltas[key] == nil { state.runDeltas[key] = RunSetDelta(set: set) }
        // In place (`!`): no copy of the delta per row.
        state.runDeltas[key]!.add(args, live: state.liveDataflows.contains(dataflow))
    }

    func touch(execution: Int64, dataflow: Int64) {
        state.touchedRuns[execution] = dataflow
    }

    private func accumulator(_ execution: Int64) throws -> RunAccumulator {
        if let cached = state.runs[execution] { return cached }
        let stored = try String.fetchOne(db, sql: "SELECT summary FROM run_summary WHERE exec_id = ?", arguments: [execution])
        return try stored.map(RunAccumulator.decode) ?? RunAccumulator()
    }

    /// Writes the summaries of the runs the job touched and makes its live events.
    func flush() throws {
        let touched = state.touchedRuns.sorted { $0.key < $1.key }
        var byRun: [Int64: [RunSetDelta]] = [:]
        for (key, delta) in state.runDeltas { byRun[key.execution, default: []].append(delta) }
        state.touchedRuns.removeAll()
        state.runDeltas.removeAll()
        let now = Timestamp.now()
        let states = try Self.runStates(db, touched.map(\.key))
        for (execution, dataflow) in touched {
            var run = try accumulator(execution)
            let runDeltas = (byRun[execution] ?? []).sorted { $0.set.id < $1.set.id }
            for delta in runDeltas { run.merge(delta) }
            state.runs[execution] = run
            let summary = try run.json()
            guard let row = states[execution] else { continue }
            let status = Self.status(tasks: row["tasks"], running: row["running"], failed: row["failed"])
            let start: String? = row["start_time"]
            let end: String? = status == "RUNNING" ? nil : row["end_time"]
            try db.execute(sql: """
                INSERT INTO run_summary(exec_id, df_id, status, tasks, start_time, end_time, updated_at, seq, summary)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (exec_id) DO UPDATE SET status = excluded.status, tasks = excluded.tasks,
                  start_time = excluded.start_time, end_time = excluded.end_time, updated_at = excluded.updated_at,
                  seq = excluded.seq, summary = excluded.summary
                """, arguments: [execution, dataflow, status, row["tasks"] as Int64, start, end, now, state.nextSeq(), summary])
            // A `run` event for every run, followed or not: a page that read the runs while this
            // commit was under way then still hears of it. New rows only where someone follows.
            let tag: String = row["tag"]
            for delta in runDeltas where !delta.rows.isEmpty || delta.truncated {
                let data = String(decoding: try JSONEncoder().encode(delta.liveRows(run: execution, execution: tag)), as: UTF8.self)
                state.events.append(LiveEvent(seq: state.nextSeq(), dataflowID: dataflow, kind: .rows, data: data))
            }
            let stored = StoredRun(id: execution, execution: tag, status: status, tasks: row["tasks"], startTime: start, endTime: end,
                                   updatedAt: now, user: row["user"], host: row["host"], script: row["script"])
            state.events.append(LiveEvent(seq: state.nextSeq(), dataflowID: dataflow, kind: .run,
                                          data: stored.json(summary: summary, now: Timestamp.parse(now) ?? 0, staleAfter: .infinity)))
        }
        // The cache holds the runs that train now; past its bound it starts over (a run's
        // summary is read back from run_summary when it sends again). Only now: the rows of
        // this job are in the summaries just written.
        if state.runs.count > Self.maxCachedRuns { state.runs.removeAll() }
    }

    /// The executions with their tasks' state, by execution id: one query for a job's runs,
    /// not one per run.
    static func runStates(_ db: any SQLDatabase, _ executions: [Int64]) throws -> [Int64: SQLRow] {
        var states: [Int64: SQLRow] = [:]
        try db.forEachRow(listing: executions.map(SQLValue.integer), runSQL) { row in states[row["id"]] = row }
        return states
    }

    /// `width` executions with their tasks' state (the index on task(df_exec, ...) serves it).
    static func runSQL(width: Int) -> String {
        """
        SELECT e.id, e.tag, e.user, e.host, e.script,
          coalesce(e.start_time, min(t.start_time)) AS start_time,
          coalesce(e.end_time, max(t.end_time)) AS end_time,
          count(t.id) AS tasks,
          coalesce(sum(CASE WHEN t.status IN ('RUNNING', 'READY') THEN 1 ELSE 0 END), 0) AS running,
          coalesce(sum(CASE WHEN t.status IN ('FAILED', 'FINISHED_WITH_ERROR') THEN 1 ELSE 0 END), 0) AS failed
        FROM dataflow_execution e LEFT JOIN task t ON t.df_exec = e.id
        WHERE e.id IN (\(SQLList.placeholders(width))) GROUP BY e.id
        """
    }

    /// RUNNING while any task runs (or none was sent), FAILED when one failed, else FINISHED:
    /// the same rule as the executions listing.
    static func status(tasks: Int, running: Int, failed: Int) -> String {
        if tasks == 0 || running > 0 { return "RUNNING" }
        return failed > 0 ? "FAILED" : "FINISHED"
    }

    /// Builds every run's summary from the rows stored (the migration that adds summaries to a
    /// database written before them). One pass over each set's table.
    static func rebuildAll(_ db: any SQLDatabase) throws {
        let state = WriterState(catalog: try Catalog.load(db))
        let summaries = RunSummaries(db: db, state: state)
        for row in try db.fetchAll(sql: "SELECT id, df_id FROM dataflow_execution") { summaries.touch(execution: row[0], dataflow: row[1]) }
        for df in state.catalog.dataflows.values {
            for s in df.sets.values {
                guard let owner = s.owner else { continue }
                let columns = (["\(owner)_task_id", "id"] + s.attributes.map(\.name)).map { "x.\($0.quotedIdentifier)" }
                try db.forEachRow("""
                    SELECT t.df_exec, \(columns.joined(separator: ", ")) FROM \(db.dialect.tableSQL(s.table)) x
                    JOIN task t ON t.id = x.\("\(owner)_task_id".quotedIdentifier) ORDER BY x.id
                    """, []) { row in
                    try summaries.record(Array(row.values.dropFirst()), set: s, execution: row[0], dataflow: df.id)
                    return true
                }
            }
        }
        try summaries.flush()
    }
}

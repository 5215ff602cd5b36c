import Crypto
import DNNProvModel
import Foundation

/// How lenient ingestion is. The DfAnalyzer endpoints serve clients that cannot be changed.
public struct IngestOptions: Sendable {
    /// Rows a client re-sends are recognised by what the DfAnalyzer clients re-send, and not
    /// stored again: a task that names no execution (variant A) re-sends the whole list it has
    /// sent so far, so a message whose rows of a set start with exactly the rows the task sent
    /// before is those rows plus new ones; a task that names its execution (variants B and C)
    /// re-sends its last row on `end()`. Every other row is stored, identical or not.
    public var skipResentElements: Bool
    /// A row with fewer values than the set has attributes is completed with nulls, and the answer
    /// says so (Keras-Prov without validation data sends 5 values for 7 attributes).
    public var padShortRows: Bool
    /// A row that does not fit (a value too many, a non-number for a NUMERIC, a set the task
    /// cannot add to) is kept in `refused_row` with its reason, and the rest of the event is
    /// stored: old clients never read answers, and one bad row must not block the others.
    public var keepRefusedRows: Bool
    /// A task that had ended and begins again (a client re-using or re-creating it) is reopened:
    /// its next end is its end time; and in an inferred execution whose other tasks still run, it
    /// is a task of that run, not the start of a new one.
    public var reopenEndedTasks: Bool

    public init(skipResentElements: Bool = false, padShortRows: Bool = false, keepRefusedRows: Bool = false,
                reopenEndedTasks: Bool = false) {
        self.skipResentElements = skipResentElements
        self.padShortRows = padShortRows
        self.keepRefusedRows = keepRefusedRows
        self.reopenEndedTasks = reopenEndedTasks
    }

    public static let strict = IngestOptions()
    public static let dfanalyzer = IngestOptions(skipResentElements: true, padShortRows: true, keepRefusedRows: true, reopenEndedTasks: true)
}

/// Writes task events: executions, tasks, dependencies, rows, files. Runs inside the writer's
/// transaction; any error it throws rolls back the whole request it belongs to.
struct Ingestion {
    let db: any SQLDatabase
    let state: WriterState
    let options: IngestOptions

    /// The run (execution) an event belongs to.
    struct Run { var execution: Int64; var dataflow: Int64 }

    var runs: RunSummaries { RunSummaries(db: db, state: state) }

    /// The idempotency keys of this request already stored (or stored by an earlier event of it),
    /// with their fingerprints, read in a few queries up front instead of one per event: on
    /// PostgreSQL each query is a round trip.
    private let keys = IdempotencyKeys()

    func ingest(_ events: [TaskEvent], tagIndexes: Bool) throws -> IngestResult {
        var result = IngestResult()
        try keys.prefetch(events, db: db, catalog: state.catalog)
        try prefetchExecutions(events)
        for (i, e) in events.enumerated() {
            do {
                try ingest(e, into: &result)
            } catch let error as ProvError {
                throw tagIndexes ? error.at(event: i) : error
            }
        }
        // The runs' summaries, in the same transaction as their rows.
        try runs.flush()
        return result
    }

    private func ingest(_ e: TaskEvent, into result: inout IngestResult) throws {
        let df = try state.catalog.dataflows[e.dataflow] ?? state.catalog.dataflow(Identifier.normalizeDataflow(e.dataflow))
        if let key = e.key, try isDuplicate(key: key, of: e, dataflow: df.id) {
            result.duplicates += 1
            return
        }
        let t = try df.transformation(Self.tag(e.transformation, in: df.transformations, what: "transformation tag"))
        let identifier = e.task.trimmingCharacters()
        guard !identifier.isEmpty else { throw ProvError.badRequest("task id is empty") }
        let time = EventTime(e.time)

        let exec = try execution(for: e, df: df, transformation: t, identifier: identifier, time: time)
        let task = try upsertTask(e, identifier: identifier, transformation: t, execution: exec, time: time)
        let run = Run(execution: exec, dataflow: df.id)
        runs.touch(execution: exec, dataflow: df.id)

        for ref in e.dependencies {
            let pt = try df.transformation(Self.tag(ref.transformation, in: df.transformations, what: "dependency transformation"))
            let pid = ref.task.trimmingCharacters()
            guard !pid.isEmpty else { throw ProvError.badRequest("dependency of task '\(identifier)' has an empty task id") }
            let prev = try findOrCreateTask(identifier: pid, transformation: pt, execution: exec, time: time)
            let dep = WriterState.Dependency(transformation: pt.tag, task: prev)
            var deps = try dependencies(of: task)
            if !deps.contains(dep) {
                try db.execute(sql: "INSERT INTO task_dependency(task_id, previous_task_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                               arguments: [task, prev])
                deps.append(dep)
                state.taskDependencies[task] = deps
            }
        }

        if options.skipResentElements || options.keepRefusedRows {
            try insertLeniently(e, df: df, transformation: t, task: task, run: run, into: &result)
        } else {
            for es in e.sets {
                let (s, positions) = try resolve(es.tag, attributes: es.attributes, df: df, transformation: t)
                try insertRows(es.elements, positions: positions, set: s, transformation: t.tag, task: task, run: run, into: &result)
            }
        }

        // Rows this task consumes from the tasks it depends on get its id (no copies).
        if !t.inputDependencies.isEmpty {
            for dep in try dependencies(of: task) {
                for (setTag, producer) in t.inputDependencies where producer == dep.transformation {
                    guard let s = df.sets[setTag], s.taskColumns.contains(t.tag), s.taskColumns.contains(producer) else { continue }
                    let own = "\(t.tag)_task_id".quotedIdentifier
                    try db.execute(sql: """
                        UPDATE \(db.dialect.tableSQL(s.table)) SET \(own) = ? \
                        WHERE \("\(producer)_task_id".quotedIdentifier) = ? AND \(own) IS NULL
                        """, arguments: [task, dep.task])
                }
            }
        }

        for f in e.files {
            try db.execute(sql: "INSERT INTO file(task_id, name, path) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                           arguments: [task, f.name, f.path])
        }
        for p in e.performances {
            try db.execute(sql: "INSERT INTO performance(task_id, start_time, end_time) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                           arguments: [task, p.startTime, p.endTime])
        }
        result.stored += 1
    }

    /// Records the event's idempotency key (per dataflow). A key already recorded with the same
    /// content is a retry: the event is skipped. With other content it is refused (409): two
    /// different events under one key would otherwise lose the second silently.
    private func isDuplicate(key: String, of e: TaskEvent, dataflow: Int64) throws -> Bool {
        let fingerprint = e.fingerprint
        guard let stored = try keys.fingerprint(of: key, dataflow: dataflow, db: db) else {
            // Known to be absent (looked up in this transaction, and the writer is alone in it):
            // a plain insert, which backends may batch with the request's other keys.
            try keys.inserter(db).insert([.integer(dataflow), .text(key), .text(fingerprint)])
            keys.stored(key, dataflow: dataflow, fingerprint: fingerprint)
            // Keys stored before keys had a scope and a fingerprint: a retry of such an event.
            guard state.hasLegacyKeys else { return false }
            return try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM ingest_key WHERE key = ?)", arguments: [key]) ?? false
        }
        guard stored == fingerprint else {
            throw ProvError.conflict("idempotency key '\(key.clipped())' was already used for an event with other content; keys must be unique per event")
        }
        return true
    }

    // MARK: rows

    /// The set a task adds rows to, and the column of each value when the rows name their attributes.
    private func resolve(_ tag: String, attributes: [String]?, df: DataflowEntry, transformation t: TransformationEntry) throws -> (SetEntry, [Int]?) {
        let s = try df.set(Self.tag(tag, in: df.sets, what: "set tag"))
        guard t.uses(s.tag) else {
            throw ProvError.unprocessable("set '\(s.tag)' is neither an input nor an output of transformation '\(t.tag)'")
        }
        guard s.owner == t.tag else {
            throw ProvError.unprocessable(
                "rows of set '\(s.tag)' are added by tasks of '\(s.owner ?? "?")'; tasks of '\(t.tag)' use them through their dependencies")
        }
        return (s, try attributes.map { try Self.positions(of: $0, in: s) })
    }

    /// The DfAnalyzer endpoints: the rows of each set (variant A sends one entry per row, the same
    /// tag many times) without those the client re-sent; rows that do not fit are kept in
    /// `refused_row`, and the others stored.
    private func insertLeniently(_ e: TaskEvent, df: DataflowEntry, transformation t: TransformationEntry, task: Int64,
                                 run: Run, into result: inout IngestResult) throws {
        var groups: [(tag: String, attributes: [String]?, rows: [[Value]])] = []
        for es in e.sets {
            let tag = es.tag.trimmingCharacters().lowercased()
            if let k = groups.firstIndex(where: { $0.tag == tag && $0.attributes == es.attributes }) {
                groups[k].rows += es.elements
            } else {
                groups.append((tag, es.attributes, es.elements))
            }
        }
        for g in groups {
            var rows = g.rows
            if options.skipResentElements {
                let resent = try resentRows(rows, set: g.tag, task: task, namesExecution: e.execution != nil, ends: e.status.isTerminal)
                result.resentRows += resent
                rows.removeFirst(resent)
            }
            if rows.isEmpty { continue }
            let resolved: (SetEntry, [Int]?)
            do {
                resolved = try resolve(g.tag, attributes: g.attributes, df: df, transformation: t)
            } catch let error as ProvError where options.keepRefusedRows {
                try refuse(rows, set: g.tag, task: task, dataflow: df.id, reason: error.message, into: &result)
                continue
            }
            try insertRows(rows, positions: resolved.1, set: resolved.0, transformation: t.tag, task: task, run: run,
                           dataflow: df.id, into: &result)
        }
    }

    /// How many of the leading `rows` the task already sent (see `IngestOptions.skipResentElements`);
    /// records what it has now sent.
    private func resentRows(_ rows: [[Value]], set: String, task: Int64, namesExecution: Bool, ends: Bool) throws -> Int {
        let key = WriterState.SentKey(task: task, set: set)
        let before: WriterState.SentState
        if let cached = state.sent[key] {
            before = cached
        } else if let row = try db.fetchOne(sql: "SELECT sent, prefix_digest, last_digest FROM dfa_sent WHERE task_id = ? AND set_tag = ?",
                                            arguments: [task, set]) {
            before = .init(count: row[0], prefix: row[1], last: row[2])
        } else {
            before = .init()
        }
        let digests = rows.map(Self.digest)
        var resent = 0
        var after = WriterState.SentState()
        if namesExecution {
            // Variants B and C: `end()` sends the last row again.
            if ends, let first = digests.first, first == before.last { resent = 1 }
            after = before
        } else if before.count > 0, digests.count >= before.count {
            // Variant A: the whole list so far, then the new rows.
            var chain = ""
            for d in digests.prefix(Int(before.count)) { chain = Self.chain(chain, d) }
            if chain == before.prefix {
                resent = Int(before.count)
                after = before
            }
        }
        // Otherwise (a list that does not start with what was sent): every row is new, and the
        // list sent so far is this one.
        for d in digests.dropFirst(resent) {
            after.prefix = Self.chain(after.prefix, d)
            after.count += 1
        }
        if let last = digests.last { after.last = last }
        if after != before {
            try db.execute(sql: """
                INSERT INTO dfa_sent(task_id, set_tag, sent, prefix_digest, last_digest) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (task_id, set_tag) DO UPDATE SET sent = excluded.sent, prefix_digest = excluded.prefix_digest,
                  last_digest = excluded.last_digest
                """, arguments: [task, set, after.count, after.prefix, after.last])
        }
        state.sent[key] = after
        return resent
    }

    /// Forgets what a task sent: a task begun again is a new list on the client's side.
    private func forgetSent(task: Int64) throws {
        try db.execute(sql: "DELETE FROM dfa_sent WHERE task_id = ?", arguments: [task])
        for key in state.sent.keys where key.task == task { state.sent[key] = nil }
    }

    static func digest(_ row: [Value]) -> String {
        var text = ""
        for v in row {
            switch v {
            case .null: text += "n;"
            case .number(let d): text += "d\(d.bitPattern);"
            case .text(let s): text += "t\(s.utf8.count):\(s);"
            }
        }
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func chain(_ prefix: String, _ digest: String) -> String {
        SHA256.hash(data: Data((prefix + digest).utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Keeps rows that were not stored in `refused_row`, with the reason.
    private func refuse(_ rows: [[Value]], set: String, task: Int64, dataflow: Int64, reason: String, into result: inout IngestResult) throws {
        guard !rows.isEmpty else { return }
        let now = Timestamp.now()
        for row in rows {
            let json = String(decoding: try JSONEncoder().encode(row), as: UTF8.self)
            try db.execute(sql: """
                INSERT INTO refused_row(df_id, set_tag, task_id, row_values, reason, received_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [dataflow, set, task, json, reason, now])
        }
        result.warnings.append("set '\(set)': \(rows.count) row(s) refused and kept in refused_row: \(reason)")
    }

    /// Where each named attribute stands in the set's column order.
    static func positions(of names: [String], in s: SetEntry) throws -> [Int] {
        var seen = Set<Int>()
        return try names.map { raw in
            let name = raw.lowercased()
            guard let i = s.attributes.firstIndex(where: { $0.name == name }) else {
                throw ProvError.unprocessable("set '\(s.tag)' has no attribute '\(raw)' (it has \(s.attributes.map(\.name).joined(separator: ", ")))")
            }
            guard seen.insert(i).inserted else { throw ProvError.unprocessable("attribute '\(raw)' is named twice for set '\(s.tag)'") }
            return i
        }
    }

    /// `positions`: for rows that name their attributes, the column of each value.
    private func insertRows(_ rows: [[Value]], positions: [Int]?, set s: SetEntry, transformation: String, task: Int64,
                            run: Run, dataflow: Int64? = nil, into result: inout IngestResult) throws {
        let n = s.attributes.count
        let expected = positions?.count ?? n
        // For each column, the index of its value in a row (nil: not sent, stored as null).
        var source: [Int?] = Array(0..<n)
        if let positions {
            source = Array(repeating: nil, count: n)
            for (k, i) in positions.enumerated() { source[i] = k }
        }
        var padded = 0
        let insert = try state.insertStatement(db, set: s, transformation: transformation)
        var args = [SQLValue](repeating: .null, count: n + 2)
        args[0] = .integer(task)
        // Rows refused by reason (kept in refused_row when the options say so).
        var refused: [(reason: String, rows: [[Value]])] = []
        func refuse(_ row: [Value], _ error: ProvError) throws {
            guard options.keepRefusedRows, dataflow != nil else { throw error }
            if let k = refused.firstIndex(where: { $0.reason == error.message }) { refused[k].rows.append(row) } else { refused.append((error.message, [row])) }
        }
        rows: for row in rows {
            guard row.count == expected || (options.padShortRows && row.count < expected) else {
                let names = positions.map { $0.map { s.attributes[$0].name } } ?? s.attributes.map(\.name)
                try refuse(row, ProvError.unprocessable(
                    "set '\(s.tag)' has \(expected) attributes (\(names.joined(separator: ", "))); a row has \(row.count) values"))
                continue
            }
            for i in 0..<n {
                let a = s.attributes[i]
                let v = source[i].map { $0 < row.count ? row[$0] : .null } ?? .null
                do {
                    args[i + 2] = try a.type.isNumeric ? db.dialect.numericValue(v) : (v.text.map(SQLValue.text) ?? .null)
                } catch {
                    try refuse(row, ProvError.unprocessable("set '\(s.tag)', attribute '\(a.name)' is NUMERIC: \(error.message)"))
                    continue rows
                }
            }
            if row.count < expected { padded += 1 }
            args[1] = try .integer(state.nextID(db, table: s.table))
            try insert.insert(args)
            try runs.record(args, set: s, execution: run.execution, dataflow: run.dataflow)
            result.rows += 1
        }
        if let dataflow {
            for r in refused { try self.refuse(r.rows, set: s.tag, task: task, dataflow: dataflow, reason: r.reason, into: &result) }
        }
        if padded > 0 {
            let sent = positions.map { $0.map { s.attributes[$0].name } } ?? s.attributes.map(\.name)
            let missing = sent.suffix(expected - (rows.map(\.count).min() ?? expected))
            result.warnings.append(
                "set '\(s.tag)': \(padded) row(s) had fewer values than their \(expected) attributes; the missing trailing values (\(missing.joined(separator: ", "))) were stored as null")
        }
    }

    // MARK: executions and tasks

    /// Looks up the named executions of a request that the writer does not know yet, a few
    /// queries for the request instead of one per run; those not found are created without a
    /// lookup when met.
    private func prefetchExecutions(_ events: [TaskEvent]) throws {
        var byDataflow: [Int64: Set<String>] = [:]
        for e in events {
            guard let name = e.execution?.trimmingCharacters(), !name.isEmpty, let df = state.catalog.dataflow(named: e.dataflow) else { continue }
            let key = WriterState.ExecutionKey(dataflow: df.id, tag: name)
            if state.executions[key] == nil && !state.absentExecutions.contains(key) { byDataflow[df.id, default: []].insert(name) }
        }
        for (dataflow, names) in byDataflow {
            var missing = names
            try db.forEachRow(listing: names.map(SQLValue.text), before: [.integer(dataflow)], { width in
                "SELECT tag, id FROM dataflow_execution WHERE df_id = ? AND tag IN (\(SQLList.placeholders(width)))"
            }) { row in
                let tag: String = row[0]
                state.executions[WriterState.ExecutionKey(dataflow: dataflow, tag: tag)] = row[1]
                missing.remove(tag)
            }
            for tag in missing { state.absentExecutions.insert(WriterState.ExecutionKey(dataflow: dataflow, tag: tag)) }
        }
    }

    /// Inserts an execution under an id this writer assigns (no answer to wait for).
    private func createExecution(df: DataflowEntry, tag: String, inferred: Bool, time: EventTime) throws -> Int64 {
        let id = try state.nextID(db, table: WriterState.executionTable)
        try db.execute(sql: "INSERT INTO dataflow_execution(id, df_id, tag, inferred, start_time) VALUES (?, ?, ?, ?, ?)",
                       arguments: [id, df.id, tag, inferred ? 1 : 0, time.text])
        let key = WriterState.ExecutionKey(dataflow: df.id, tag: tag)
        state.absentExecutions.remove(key)
        state.executions[key] = id
        state.created(execution: id)
        return id
    }

    /// Inserts a task under an id this writer assigns.
    private func createTask(identifier: String, transformation t: TransformationEntry, execution: Int64, status: TaskStatus,
                            start: String?, end: String?, event e: TaskEvent?) throws -> Int64 {
        let id = try state.nextID(db, table: WriterState.taskTable)
        try db.execute(sql: """
            INSERT INTO task(id, identifier, dt_id, df_exec, status, start_time, end_time, workspace, computing_resource, output_msg, error_msg)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [id, identifier, t.id, execution, status.rawValue, start, end, e?.workspace, e?.resource, e?.output, e?.error])
        state.tasks[.init(execution: execution, transformation: t.id, identifier: identifier)] = .init(id: id, status: status, ended: end != nil)
        state.taskDependencies[id] = []
        return id
    }

    private func execution(for e: TaskEvent, df: DataflowEntry, transformation t: TransformationEntry, identifier: String, time: EventTime) throws -> Int64 {
        if let name = e.execution?.trimmingCharacters(), !name.isEmpty {
            let key = WriterState.ExecutionKey(dataflow: df.id, tag: name)
            let id: Int64
            if let cached = state.executions[key] {
                id = cached
            } else if !state.absentExecutions.contains(key),
                      let found = try Int64.fetchOne(db, sql: "SELECT id FROM dataflow_execution WHERE df_id = ? AND tag = ?", arguments: [df.id, name]) {
                id = found
            } else {
                id = try createExecution(df: df, tag: name, inferred: false, time: time)
            }
            state.executions[key] = id
            if let info = e.executionInfo { try record(info, execution: id) }
            return id
        }
        // No execution named (DfAnalyzer variant A): the dataflow's latest inferred one, unless the
        // spec was posted again or a task that had ended starts again: then a new run has begun.
        var current: Int64? = nil
        if !state.newInferredExecutionPending.contains(df.id) {
            current = try state.inferredExecution[df.id] ?? Int64.fetchOne(db, sql: """
                SELECT id FROM dataflow_execution WHERE df_id = ? AND inferred = 1 ORDER BY id DESC LIMIT 1
                """, arguments: [df.id])
        }
        if let id = current {
            // A task of the run begun again while other tasks of the run still run (Keras-Prov
            // re-creates its Adaptation task per learning-rate change during training) is the
            // run going on, not a new one.
            let restarted = try !e.status.isTerminal && (cachedTask(identifier: identifier, transformation: t.id, execution: id)?.ended ?? false)
                && !(options.reopenEndedTasks && otherTaskRuns(in: id, besides: identifier, transformation: t.id))
            if !restarted {
                state.inferredExecution[df.id] = id
                if let info = e.executionInfo { try record(info, execution: id) }
                return id
            }
        }
        var tag = "\(df.tag)-\(time.text)"
        var n = 1
        while try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM dataflow_execution WHERE df_id = ? AND tag = ?)", arguments: [df.id, tag]) ?? false {
            n += 1
            tag = "\(df.tag)-\(time.text)-\(n)"
        }
        let id = try createExecution(df: df, tag: tag, inferred: true, time: time)
        state.inferredExecution[df.id] = id
        state.newInferredExecutionPending.remove(df.id)
        if let info = e.executionInfo { try record(info, execution: id) }
        return id
    }

    /// Whether a task of the execution other than this one has started and not ended.
    private func otherTaskRuns(in execution: Int64, besides identifier: String, transformation: Int64) throws -> Bool {
        try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM task WHERE df_exec = ? AND start_time IS NOT NULL AND end_time IS NULL
                             AND NOT (dt_id = ? AND identifier = ?))
            """, arguments: [execution, transformation, identifier]) ?? false
    }

    private func record(_ info: ExecutionInfo, execution: Int64) throws {
        try db.execute(sql: """
            UPDATE dataflow_execution SET "user" = COALESCE(?, "user"), host = COALESCE(?, host),
              script = COALESCE(?, script), email = COALESCE(?, email), hardware = COALESCE(?, hardware)
            WHERE id = ?
            """, arguments: [info.user, info.host, info.script, info.email, info.hardware, execution])
    }

    private func cachedTask(identifier: String, transformation: Int64, execution: Int64) throws -> WriterState.TaskState? {
        let key = WriterState.TaskKey(execution: execution, transformation: transformation, identifier: identifier)
        if let s = state.tasks[key] { return s }
        // Every task of an execution this writer created is in the cache.
        if state.freshExecutions.contains(execution) { return nil }
        guard let row = try db.fetchOne(sql: """
            SELECT id, status, end_time FROM task WHERE df_exec = ? AND dt_id = ? AND identifier = ?
            """, arguments: [execution, transformation, identifier]) else { return nil }
        let s = WriterState.TaskState(
            id: row["id"], status: TaskStatus(rawValue: row["status"]) ?? .running, ended: (row["end_time"] as String?) != nil)
        state.tasks[key] = s
        return s
    }

    private func upsertTask(_ e: TaskEvent, identifier: String, transformation t: TransformationEntry, execution: Int64, time: EventTime) throws -> Int64 {
        let key = WriterState.TaskKey(execution: execution, transformation: t.id, identifier: identifier)
        let ends = e.status.isTerminal
        guard var s = try cachedTask(identifier: identifier, transformation: t.id, execution: execution) else {
            let id = try createTask(identifier: identifier, transformation: t, execution: execution, status: e.status,
                                    start: time.text, end: ends ? time.text : nil, event: e)
            if ends { try endExecution(execution, at: time.text) }
            return id
        }
        // An ended task stays ended: a late RUNNING (a replayed message) does not reopen it; and
        // its first end time stays. On the DfAnalyzer endpoints (no replays there) a task begun
        // again is reopened: a client re-using or re-creating it; its next end is its end time.
        let reopen = options.reopenEndedTasks && s.ended && !ends
        let newStatus = (s.ended && !ends && !reopen) ? s.status : e.status
        let setsEnd = ends && !s.ended
        if newStatus != s.status || reopen || e.error != nil || e.output != nil || e.workspace != nil || e.resource != nil {
            try db.execute(sql: """
                UPDATE task SET status = ?,
                  end_time = CASE WHEN ? = 1 THEN ? WHEN ? = 1 THEN NULL ELSE end_time END,
                  workspace = COALESCE(?, workspace), computing_resource = COALESCE(?, computing_resource),
                  output_msg = COALESCE(?, output_msg), error_msg = COALESCE(?, error_msg)
                WHERE id = ?
                """, arguments: [newStatus.rawValue, setsEnd, time.text, reopen, e.workspace, e.resource, e.output, e.error, s.id])
            if setsEnd { try endExecution(execution, at: time.text) }
            s.status = newStatus
            s.ended = reopen ? false : (s.ended || ends)
            state.tasks[key] = s
        }
        if reopen && options.skipResentElements { try forgetSent(task: s.id) }
        return s.id
    }

    /// A task named as a dependency before it was ever sent is created as READY.
    private func findOrCreateTask(identifier: String, transformation t: TransformationEntry, execution: Int64, time: EventTime) throws -> Int64 {
        if let s = try cachedTask(identifier: identifier, transformation: t.id, execution: execution) { return s.id }
        return try createTask(identifier: identifier, transformation: t, execution: execution, status: .ready, start: nil, end: nil, event: nil)
    }

    private func endExecution(_ id: Int64, at time: String) throws {
        try db.execute(sql: "UPDATE dataflow_execution SET end_time = \(db.dialect.greatest("COALESCE(end_time, '')", "?")) WHERE id = ?",
                       arguments: [time, id])
    }

    private func dependencies(of task: Int64) throws -> [WriterState.Dependency] {
        if let d = state.taskDependencies[task] { return d }
        let rows = try db.fetchAll(sql: """
            SELECT dt.tag, d.previous_task_id FROM task_dependency d
            JOIN task p ON p.id = d.previous_task_id JOIN data_transformation dt ON dt.id = p.dt_id
            WHERE d.task_id = ?
            """, arguments: [task])
        let deps = rows.map { WriterState.Dependency(transformation: $0[0], task: $0[1]) }
        state.taskDependencies[task] = deps
        return deps
    }

    // MARK: names

    /// Looks a tag up as sent, then normalised (most clients already send lower case).
    static func tag<V>(_ raw: String, in dict: [String: V], what: String) throws(ProvError) -> String {
        if dict[raw] != nil { return raw }
        return try Identifier.normalize(raw, what: what)
    }

}

extension String {
    func trimmingCharacters() -> String {
        guard let f = first, let l = last, f.isWhitespace || l.isWhitespace else { return self }
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}

extension WriterState {
    func insertStatement(_ db: any SQLDatabase, set s: SetEntry, transformation: String) throws -> any SQLRowInserter {
        let key = StatementKey(set: s.id, transformation: transformation, kind: 0, attributes: s.attributes.count)
        if let st = statements[key] { return st }
        let cols = (["\(transformation)_task_id", "id"] + s.attributes.map(\.name)).map(\.quotedIdentifier)
        let st = try db.rowInserter(table: s.table, columns: cols)
        statements[key] = st
        return st
    }
}

/// An event's time as stored text, formatted only when a task or an execution starts or ends
/// (not for every row on the hot path).
final class EventTime {
    private let epoch: Double?
    private var formatted: String?

    init(_ epoch: Double?) { self.epoch = epoch }

    var text: String {
        if let formatted { return formatted }
        let t = epoch.map(Timestamp.format) ?? Timestamp.now()
        formatted = t
        return t
    }
}

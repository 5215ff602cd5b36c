import DNNProvModel
import Foundation

public struct RowsFilter: Sendable {
    public var execution: String?
    public var task: Int64?
    public var after: Int64?
    public var limit: Int
    public var offset: Int

    /// The most bytes of values one page holds; past it the page stops and says so.
    public static let maxBytes = 16 << 20

    public init(execution: String? = nil, task: Int64? = nil, after: Int64? = nil, limit: Int = 1000, offset: Int = 0) {
        self.execution = execution
        self.task = task
        self.after = after
        self.limit = limit
        self.offset = offset
    }
}

extension ProvStore {
    public func dataflows() async throws -> [DataflowSummary] {
        try await read { db in
            try db.fetchAll(sql: """
                SELECT d.id, d.tag, d.version,
                  (SELECT count(*) FROM data_transformation t WHERE t.df_id = d.id) AS transformations,
                  (SELECT count(*) FROM dataflow_execution e WHERE e.df_id = d.id) AS executions
                FROM dataflow d ORDER BY d.id
                """).map {
                DataflowSummary(id: $0["id"], tag: $0["tag"], version: $0["version"],
                                transformations: $0["transformations"], executions: $0["executions"])
            }
        }
    }

    /// The dataflow's specification as it stands (all registrations merged).
    public func specification(of dataflow: String) throws -> DataflowSpec {
        try catalog.dataflow(Identifier.normalizeDataflow(dataflow)).specification
    }

    /// The dataflow's id and tag, by tag or by numeric id (the DfAnalyzer API uses ids).
    /// `dataflowIdentity`, for a dataflow another server on the same database may have
    /// registered a moment ago: when unknown here, the catalog is refreshed once first.
    public func currentDataflowIdentity(_ tagOrID: String) async throws -> (id: Int64, tag: String) {
        do {
            return try dataflowIdentity(tagOrID)
        } catch let e as ProvError where e.kind == .notFound {
            guard try await refreshCatalog() else { throw e }
            return try dataflowIdentity(tagOrID)
        }
    }

    public func dataflowIdentity(_ tagOrID: String) throws -> (id: Int64, tag: String) {
        let c = catalog
        if let id = Int64(tagOrID) {
            guard let df = c.dataflows.values.first(where: { $0.id == id }) else { throw ProvError.notFound("no dataflow with id \(id)") }
            return (df.id, df.tag)
        }
        let df = try c.dataflow(Identifier.normalizeDataflow(tagOrID))
        return (df.id, df.tag)
    }

    /// Transformations with the sets they use and produce, in registration order.
    public func transformations(of dataflow: String) throws -> [(tag: String, inputs: [String], outputs: [String])] {
        let df = try catalog.dataflow(Identifier.normalizeDataflow(dataflow))
        return df.transformationOrder.compactMap { df.transformations[$0] }.map { ($0.tag, $0.inputs, $0.outputs) }
    }

    public func sets(of dataflow: String) throws -> [SetSummary] {
        let df = try catalog.dataflow(Identifier.normalizeDataflow(dataflow))
        return df.setOrder.compactMap { df.sets[$0] }.map { s in
            SetSummary(id: s.id, tag: s.tag, table: "ds_\(s.tag)", attributes: s.attributes,
                       producers: df.transformationOrder.filter { df.transformations[$0]!.outputs.contains(s.tag) },
                       consumers: df.transformationOrder.filter { df.transformations[$0]!.inputs.contains(s.tag) })
        }
    }

    public func executions(of dataflow: String) async throws -> [ExecutionSummary] {
        let df = try catalog.dataflow(Identifier.normalizeDataflow(dataflow))
        return try await read { db in
            try db.fetchAll(sql: """
                SELECT e.id, e.tag, e.start_time, e.end_time, e."user" AS "user", e.host, e.script,
                  count(t.id) AS tasks,
                  CASE WHEN sum(CASE WHEN t.status IN ('RUNNING', 'READY') THEN 1 ELSE 0 END) > 0 THEN 'RUNNING'
                       WHEN sum(CASE WHEN t.status IN ('FAILED', 'FINISHED_WITH_ERROR') THEN 1 ELSE 0 END) > 0 THEN 'FAILED'
                       WHEN count(t.id) = 0 THEN 'RUNNING'
                       ELSE 'FINISHED' END AS status
                FROM dataflow_execution e LEFT JOIN task t ON t.df_exec = e.id
                WHERE e.df_id = ?
                GROUP BY e.id, e.tag, e.start_time, e.end_time, e."user", e.host, e.script ORDER BY e.id
                """, arguments: [df.id]).map {
                ExecutionSummary(id: $0["id"], tag: $0["tag"], startTime: $0["start_time"], endTime: $0["end_time"],
                                 status: $0["status"], tasks: $0["tasks"], user: $0["user"], host: $0["host"], script: $0["script"])
            }
        }
    }

    public func tasks(of dataflow: String, execution: String? = nil) async throws -> [TaskSummary] {
        let df = try catalog.dataflow(Identifier.normalizeDataflow(dataflow))
        return try await read { db in
            var sql = """
                SELECT t.id, t.identifier, dt.tag AS transformation, e.tag AS execution, t.status,
                  t.start_time, t.end_time, t.error_msg
                FROM task t JOIN data_transformation dt ON dt.id = t.dt_id
                JOIN dataflow_execution e ON e.id = t.df_exec
                WHERE e.df_id = ?
                """
            // Each task's dependencies, in one ordered read for all the tasks listed (aggregated
            // here: SQLite's group_concat is string_agg in PostgreSQL).
            var depsSQL = """
                SELECT d.task_id, d.previous_task_id FROM task_dependency d
                JOIN task t ON t.id = d.task_id JOIN dataflow_execution e ON e.id = t.df_exec
                WHERE e.df_id = ?
                """
            var args: [SQLValue] = [df.id.sqlValue]
            if let execution {
                guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM dataflow_execution WHERE df_id = ? AND tag = ?)",
                                        arguments: [df.id, execution]) == true else {
                    throw ProvError.notFound("unknown execution '\(execution)' in dataflow '\(df.tag)'")
                }
                sql += " AND e.tag = ?"
                depsSQL += " AND e.tag = ?"
                args.append(execution.sqlValue)
            }
            sql += " ORDER BY t.id"
            depsSQL += " ORDER BY d.task_id, d.previous_task_id"
            var deps: [Int64: [Int64]] = [:]
            try db.forEachRow(depsSQL, args) { row in
                deps[row[0] as Int64, default: []].append(row[1])
                return true
            }
            return try db.fetchAll(sql: sql, arguments: SQLArguments(args)).map {
                TaskSummary(id: $0["id"], identifier: $0["identifier"], transformation: $0["transformation"],
                            execution: $0["execution"], status: $0["status"], startTime: $0["start_time"],
                            endTime: $0["end_time"], dependencies: deps[$0["id"] as Int64] ?? [], error: $0["error_msg"])
            }
        }
    }

    /// A page of a set's rows, oldest first.
    public func rows(of dataflow: String, set: String, filter: RowsFilter) async throws -> QueryResult {
        let df = try catalog.dataflow(Identifier.normalizeDataflow(dataflow))
        let s = try df.set(Ingestion.tag(set, in: df.sets, what: "set tag"))
        guard filter.limit > 0, filter.limit <= QueryOptions.maxLimit, filter.offset >= 0 else {
            throw ProvError.badRequest("limit must be between 1 and \(QueryOptions.maxLimit), offset at least 0")
        }
        var conditions: [String] = []
        var args: [SQLValue] = []
        let taskColumns = s.orderedTaskColumns.map { "\($0)_task_id".quotedIdentifier }
        if let task = filter.task {
            conditions.append("? IN (\(taskColumns.joined(separator: ", ")))")
            args.append(task.sqlValue)
        }
        if let after = filter.after {
            conditions.append("id > ?")
            args.append(after.sqlValue)
        }
        if let execution = filter.execution, let owner = s.owner.map({ "\($0)_task_id".quotedIdentifier }) {
            conditions.append("\(owner) IN (SELECT t.id FROM task t JOIN dataflow_execution e ON e.id = t.df_exec WHERE e.df_id = ? AND e.tag = ?)")
            args.append(df.id.sqlValue)
            args.append(execution.sqlValue)
        }
        // Columns as the seeds' schema has them: id, task ids (producer first), attributes.
        let names = ["id"] + s.orderedTaskColumns.map { "\($0)_task_id" } + s.attributes.map(\.name)
        let table = s.table
        let where_ = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let limit = filter.limit, offset = filter.offset
        let arguments = args
        return try await read { db in
            let sql = "SELECT \(names.map(\.quotedIdentifier).joined(separator: ", ")) FROM \(db.dialect.tableSQL(table))"
                + where_ + " ORDER BY id LIMIT \(limit) OFFSET \(offset)"
            // The same byte budget as user queries: a page of rows with megabyte values stays bounded.
            var rows: [[QueryValue]] = []
            var bytes = 0
            var stop: QueryResult.Limit?
            try db.forEachRow(sql, arguments) { row in
                let values = row.values.map(QueryValue.init(stored:))
                bytes += values.reduce(0) { $0 + $1.encodedSize }
                if bytes > RowsFilter.maxBytes {
                    stop = .bytes
                    return false
                }
                rows.append(values)
                return true
            }
            let columns = names.enumerated().map { (i, name) in
                QueryResult.Column(name: name, type: rows.lazy.map { $0[i] }.first { $0 != .null }?.typeName ?? "NULL")
            }
            return QueryResult(columns: columns, rows: rows, truncated: stop != nil, elapsedMs: 0, limit: stop)
        }
    }
}

extension QueryValue {
    /// A stored value as an answer's cell.
    fileprivate init(stored v: SQLValue) {
        switch v {
        case .null: self = .null
        case .integer(let i): self = .integer(i)
        case .real(let d): self = .real(d)
        case .text(let s): self = .text(s)
        case .blob(let b): self = .blob(Data(b))
        }
    }
}

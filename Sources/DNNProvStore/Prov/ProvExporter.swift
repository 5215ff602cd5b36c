import DNNProvModel
import Foundation

/// What an export covers, resolved against the store before anything is written (so an unknown
/// execution or task is a 404, not a broken stream).
struct ProvExportScope: Sendable {
    let dataflow: DataflowEntry
    let execution: Int64?
    let task: Int64?

    /// The stored ids of the tasks in scope, as a subquery.
    var tasksSQL: String {
        var sql = "SELECT t.id FROM task t JOIN dataflow_execution e ON e.id = t.df_exec WHERE e.df_id = \(dataflow.id)"
        if let execution { sql += " AND e.id = \(execution)" }
        if let task { sql += " AND t.id = \(task)" }
        return sql
    }

    var executionsSQL: String {
        var sql = "SELECT id, tag, start_time, end_time, \"user\", host, script, email, hardware FROM dataflow_execution WHERE df_id = \(dataflow.id)"
        if let execution { sql += " AND id = \(execution)" }
        if let task { sql += " AND id = (SELECT df_exec FROM task WHERE id = \(task))" }
        return sql + " ORDER BY id"
    }

    /// The rows of `s` in scope (`x` is the table's alias): those its owner's tasks in scope
    /// added, and for one task also those it consumed.
    func elementsCondition(_ s: SetEntry) -> String {
        guard let owner = s.owner else { return "(1 = 0)" }
        var cond = "x.\("\(owner)_task_id".quotedIdentifier) IN (\(tasksSQL))"
        if let task {
            for c in s.taskColumns.dropFirst() { cond += " OR x.\("\(c)_task_id".quotedIdentifier) = \(task)" }
        }
        return "(\(cond))"
    }
}

/// Counts of what an export wrote.
public struct ProvExportStats: Sendable, Equatable {
    public var entities = 0
    public var activities = 0
    public var agents = 0
    public var relations = 0
    public var bytes = 0
    public var records: Int { entities + activities + agents + relations }
}

/// Reads the store in one read transaction and emits PROV records in `ProvKind` order
/// (docs/prov-mapping.md). Every section is a cursor over the store: nothing is held but the
/// executions' names and agents.
struct ProvExporter {
    let db: any SQLDatabase
    let scope: ProvExportScope
    let emit: (ProvRecord) throws -> Void

    struct Execution {
        var tag: String
        var start, end: String?
        var user, host, script, email, hardware: String?
        var hasProgram: Bool { script != nil || hardwareFrameworks.isEmpty == false }
        var hasPerson: Bool { user != nil || email != nil }
        var hasMachine: Bool { host != nil || hardware != nil }
        var hardwareFrameworks: [(String, String)] {
            guard let hardware, let data = hardware.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
            let keys = ["framework", "framework_version", "python", "keras", "tensorflow", "torch", "pytorch", "jax", "dnnprov"]
            return keys.compactMap { k in object[k].map { (k, "\($0)") } }
        }
    }

    var df: DataflowEntry { scope.dataflow }
    /// A set's table as written in SQL (schema-qualified in PostgreSQL).
    func table(_ s: SetEntry) -> String { db.dialect.tableSQL(s.table) }
    func q(_ local: String) -> String { "d:" + local }
    func element(_ set: String, _ id: Int64) -> String { "d:el-\(set)-\(id)" }

    func run() throws {
        var executions: [Int64: Execution] = [:]
        var order: [Int64] = []
        try db.forEachRow(scope.executionsSQL, []) { r in
            let id: Int64 = r[0]
            executions[id] = Execution(tag: r[1], start: r[2], end: r[3], user: r[4], host: r[5], script: r[6], email: r[7], hardware: r[8])
            order.append(id)
            return true
        }
        let sets = df.setOrder.compactMap { df.sets[$0] }.filter { $0.owner != nil }
        let tasks = scope.tasksSQL

        // Entities: the plan, the collections (one per set and execution), the elements, the files.
        var plan = ProvRecord(kind: .entity, id: q("plan"))
        plan.attributes = [("prov:type", .qname("prov:Plan")), ("prov:label", .string(df.tag)), ("dnnprov:dataflow", .string(df.tag)),
                           ("dnnprov:version", .integer(Int64(df.version)))]
        for t in df.transformationOrder { plan.attributes.append(("dnnprov:transformation", .string(t))) }
        try emit(plan)
        for s in sets {
            let owner = "\(s.owner!)_task_id".quotedIdentifier
            try db.forEachRow("""
                SELECT DISTINCT t.df_exec FROM \(table(s)) x JOIN task t ON t.id = x.\(owner) \
                WHERE \(scope.elementsCondition(s)) ORDER BY 1
                """, []) { r in
                let exec: Int64 = r[0]
                var rec = ProvRecord(kind: .entity, id: q("coll-\(s.tag)-\(exec)"))
                rec.attributes = [("prov:type", .qname("prov:Collection")), ("dnnprov:set", .string(s.tag)),
                                  ("dnnprov:execution", .qname(q("exec-\(exec)")))]
                try emit(rec)
                return true
            }
        }
        for s in sets {
            let cols = s.attributes.map { "x." + $0.name.quotedIdentifier }
            var rec = ProvRecord(kind: .entity)
            try db.forEachRow("""
                SELECT x.id\(cols.isEmpty ? "" : ", " + cols.joined(separator: ", ")) FROM \(table(s)) x \
                WHERE \(scope.elementsCondition(s)) ORDER BY x.id
                """, []) { r in
                let id: Int64 = r[0]
                rec.id = element(s.tag, id)
                rec.attributes.removeAll(keepingCapacity: true)
                rec.attributes.append(("prov:type", .qname("dnnprov:Element")))
                rec.attributes.append(("dnnprov:set", .string(s.tag)))
                for (i, a) in s.attributes.enumerated() {
                    switch r[i + 1] {
                    case .null: continue
                    case .integer(let n): rec.attributes.append(("attr:" + a.name, a.type == .numeric ? .double(Double(n)) : .string(String(n))))
                    case .real(let d): rec.attributes.append(("attr:" + a.name, a.type == .numeric ? .double(d) : .string(Value.number(d).text ?? "")))
                    case .text(let t): rec.attributes.append(("attr:" + a.name, .string(t)))
                    case .blob(let b): rec.attributes.append(("attr:" + a.name, .string(Data(b).base64EncodedString())))
                    }
                }
                try emit(rec)
                return true
            }
        }
        try db.forEachRow("SELECT id, name, path FROM file WHERE task_id IN (\(tasks)) ORDER BY id", []) { r in
            var rec = ProvRecord(kind: .entity, id: q("file-\(r[0] as Int64)"))
            rec.attributes = [("prov:type", .qname("dnnprov:File")), ("dnnprov:name", .string(r[1])), ("dnnprov:path", .string(r[2]))]
            try emit(rec)
            return true
        }

        // Activities: the executions, then the tasks.
        for id in order {
            let e = executions[id]!
            var rec = ProvRecord(kind: .activity, id: q("exec-\(id)"), startTime: xsdDateTime(e.start), endTime: xsdDateTime(e.end))
            rec.attributes = [("prov:type", .qname("dnnprov:Execution")), ("prov:label", .string(e.tag)), ("dnnprov:tag", .string(e.tag))]
            try emit(rec)
        }
        try db.forEachRow("""
            SELECT t.id, t.identifier, dt.tag, t.df_exec, t.status, t.start_time, t.end_time, t.error_msg \
            FROM task t JOIN data_transformation dt ON dt.id = t.dt_id WHERE t.id IN (\(tasks)) ORDER BY t.id
            """, []) { r in
            let transformation: String = r[2]
            var rec = ProvRecord(kind: .activity, id: q("task-\(r[0] as Int64)"), startTime: xsdDateTime(r[5]), endTime: xsdDateTime(r[6]))
            rec.attributes = [("prov:type", .qname("dnnprov:Task")), ("prov:type", .qname(q("transformation-\(transformation)"))),
                              ("dnnprov:transformation", .string(transformation)), ("dnnprov:identifier", .string(r[1])),
                              ("dnnprov:execution", .qname(q("exec-\(r[3] as Int64)"))), ("dnnprov:status", .string(r[4]))]
            if let error: String = r[7] { rec.attributes.append(("dnnprov:error", .string(error))) }
            try emit(rec)
            return true
        }

        // Agents: per execution, the program (with its frameworks), the person and the machine.
        for id in order {
            let e = executions[id]!
            if e.hasProgram {
                var rec = ProvRecord(kind: .agent, id: q("program-\(id)"))
                rec.attributes = [("prov:type", .qname("prov:SoftwareAgent"))]
                if let s = e.script { rec.attributes += [("prov:label", .string(s)), ("dnnprov:script", .string(s))] }
                for (k, v) in e.hardwareFrameworks { rec.attributes.append(("dnnprov:\(k)", .string(v))) }
                try emit(rec)
            }
            if e.hasPerson {
                var rec = ProvRecord(kind: .agent, id: q("person-\(id)"))
                rec.attributes = [("prov:type", .qname("prov:Person"))]
                if let u = e.user { rec.attributes += [("prov:label", .string(u)), ("dnnprov:user", .string(u))] }
                if let m = e.email { rec.attributes.append(("dnnprov:email", .string(m))) }
                try emit(rec)
            }
            if e.hasMachine {
                var rec = ProvRecord(kind: .agent, id: q("machine-\(id)"))
                rec.attributes = [("prov:type", .qname("dnnprov:Machine"))]
                if let h = e.host { rec.attributes += [("prov:label", .string(h)), ("dnnprov:host", .string(h))] }
                if let hw = e.hardware { rec.attributes.append(("dnnprov:hardware", .string(hw))) }
                try emit(rec)
            }
        }

        // wasGeneratedBy: an output set's rows by their owner's task; files by their task.
        for s in sets where df.transformations[s.owner!]?.outputs.contains(s.tag) ?? false {
            let owner = "\(s.owner!)_task_id".quotedIdentifier
            try db.forEachRow("SELECT x.id, x.\(owner) FROM \(table(s)) x WHERE \(scope.elementsCondition(s)) ORDER BY x.id", []) { r in
                try emit(.relation(.wasGeneratedBy, element(s.tag, r[0]), q("task-\(r[1] as Int64)")))
                return true
            }
        }
        try db.forEachRow("SELECT id, task_id FROM file WHERE task_id IN (\(tasks)) ORDER BY id", []) { r in
            try emit(.relation(.wasGeneratedBy, q("file-\(r[0] as Int64)"), q("task-\(r[1] as Int64)")))
            return true
        }

        // used: an input set's rows by their owner's task (hyperparameters, layers), and every
        // row by the consumers that took it (`<consumer>_task_id`).
        for s in sets {
            let ownerIsInput = !(df.transformations[s.owner!]?.outputs.contains(s.tag) ?? false)
            for (i, column) in s.taskColumns.enumerated() where i > 0 || ownerIsInput {
                let col = "\(column)_task_id".quotedIdentifier
                try db.forEachRow("""
                    SELECT x.id, x.\(col) FROM \(table(s)) x \
                    WHERE x.\(col) IN (\(tasks)) AND \(scope.elementsCondition(s)) ORDER BY x.id
                    """, []) { r in
                    try emit(.relation(.used, q("task-\(r[1] as Int64)"), element(s.tag, r[0])))
                    return true
                }
            }
        }

        try db.forEachRow("SELECT task_id, previous_task_id FROM task_dependency WHERE task_id IN (\(tasks)) ORDER BY task_id, previous_task_id", []) { r in
            try emit(.relation(.wasInformedBy, q("task-\(r[0] as Int64)"), q("task-\(r[1] as Int64)")))
            return true
        }

        // wasDerivedFrom: each output row of a task from each input row of the same task.
        for t in df.transformationOrder.compactMap({ df.transformations[$0] }) {
            let col = "\(t.tag)_task_id".quotedIdentifier
            let outputs = t.outputs.compactMap { df.sets[$0] }.filter { $0.owner == t.tag }
            let inputs = t.inputs.compactMap { df.sets[$0] }.filter { $0.taskColumns.contains(t.tag) && !t.outputs.contains($0.tag) }
            for o in outputs {
                for i in inputs {
                    try db.forEachRow("""
                        SELECT o.id, i.id, o.\(col) FROM \(table(o)) o \
                        JOIN \(table(i)) i ON i.\(col) = o.\(col) \
                        WHERE o.\(col) IN (\(tasks)) ORDER BY o.id, i.id
                        """, []) { r in
                        try emit(.relation(.wasDerivedFrom, element(o.tag, r[0]), element(i.tag, r[1]), q("task-\(r[2] as Int64)")))
                        return true
                    }
                }
            }
        }

        for id in order {
            let e = executions[id]!
            let a = q("exec-\(id)")
            if e.hasProgram { try emit(.relation(.wasAssociatedWith, a, q("program-\(id)"), q("plan"))) }
            if e.hasPerson { try emit(.relation(.wasAssociatedWith, a, q("person-\(id)"), nil)) }
            if e.hasMachine { try emit(.relation(.wasAssociatedWith, a, q("machine-\(id)"), nil)) }
        }
        for id in order where executions[id]!.hasProgram && executions[id]!.hasPerson {
            try emit(.relation(.actedOnBehalfOf, q("program-\(id)"), q("person-\(id)"), q("exec-\(id)")))
        }
        // wasAttributedTo and hadMember: the collections, to the run's person; their rows.
        let attributed = Set(order.filter { executions[$0]!.hasPerson })
        for s in sets where !attributed.isEmpty {
            let owner = "\(s.owner!)_task_id".quotedIdentifier
            try db.forEachRow("""
                SELECT DISTINCT t.df_exec FROM \(table(s)) x JOIN task t ON t.id = x.\(owner) \
                WHERE \(scope.elementsCondition(s)) ORDER BY 1
                """, []) { r in
                let exec: Int64 = r[0]
                if attributed.contains(exec) { try emit(.relation(.wasAttributedTo, q("coll-\(s.tag)-\(exec)"), q("person-\(exec)"))) }
                return true
            }
        }
        for s in sets {
            let owner = "\(s.owner!)_task_id".quotedIdentifier
            try db.forEachRow("""
                SELECT x.id, t.df_exec FROM \(table(s)) x JOIN task t ON t.id = x.\(owner) \
                WHERE \(scope.elementsCondition(s)) ORDER BY x.id
                """, []) { r in
                try emit(.relation(.hadMember, q("coll-\(s.tag)-\(r[1] as Int64)"), element(s.tag, r[0])))
                return true
            }
        }
    }
}

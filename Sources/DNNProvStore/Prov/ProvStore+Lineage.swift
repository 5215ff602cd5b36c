import DNNProvModel
import Foundation

extension ProvStore {
    public static let lineageMaxDepth = 100
    public static let lineageMaxNodes = 5000

    /// The derivation path of one element (a row of a set): back to the elements it was derived
    /// from (through the task that generated it and what that task used: hyperparameters,
    /// layers, filters, input data), and forward to what was derived from it (the tasks that
    /// used it and what they generated), `depth` derivation steps each way.
    public func lineage(of dataflow: String, set: String, row: Int64, direction: LineageDirection = .back,
                        depth: Int = 10, maxNodes: Int = ProvStore.lineageMaxNodes) async throws -> LineageAnswer {
        let df = try catalog.dataflow(Identifier.normalizeDataflow(dataflow))
        let s = try df.set(Ingestion.tag(set, in: df.sets, what: "set tag"))
        guard (0...Self.lineageMaxDepth).contains(depth) else {
            throw ProvError.badRequest("depth must be between 0 and \(Self.lineageMaxDepth)")
        }
        let started = ContinuousClock.now
        return try await read { db in
            var walk = LineageWalk(db: db, df: df, maxNodes: maxNodes)
            guard try walk.addElement(s, row, depth: 0) else {
                throw ProvError.notFound("no row \(row) in set '\(s.tag)' of dataflow '\(df.tag)'")
            }
            if direction != .forward { try walk.walk(from: (s.tag, row), depth: depth, back: true) }
            if direction != .back { try walk.walk(from: (s.tag, row), depth: depth, back: false) }
            try walk.addInformedBy()
            let elapsed = ContinuousClock.now - started
            return LineageAnswer(dataflow: df.tag, root: LineageWalk.elementID(s.tag, row), direction: direction, depth: depth,
                                 nodes: walk.nodes, edges: walk.edges, truncated: walk.truncated,
                                 elapsedMs: elapsed.milliseconds)
        }
    }
}

/// A breadth-first walk over derivations, in one read transaction.
struct LineageWalk {
    let db: any SQLDatabase
    let df: DataflowEntry
    let maxNodes: Int
    var nodes: [LineageAnswer.Node] = []
    var edges: [LineageAnswer.Edge] = []
    var seenEdges: Set<LineageAnswer.Edge> = []
    var index: [String: Int] = [:]
    var truncated = false
    /// Per element: its owner task and the tasks that consumed it.
    var elementTasks: [String: (owner: Int64?, consumers: [(String, Int64)])] = [:]
    var executionTags: [Int64: String] = [:]

    static func elementID(_ set: String, _ row: Int64) -> String { "el-\(set)-\(row)" }
    static func taskID(_ id: Int64) -> String { "task-\(id)" }

    mutating func edge(_ from: String, _ to: String, _ relation: String) {
        let e = LineageAnswer.Edge(from: from, to: to, relation: relation)
        if seenEdges.insert(e).inserted { edges.append(e) }
    }

    /// Adds the element's node (once); false when the row does not exist.
    mutating func addElement(_ s: SetEntry, _ row: Int64, depth: Int) throws -> Bool {
        let id = Self.elementID(s.tag, row)
        if index[id] != nil { return true }
        if nodes.count >= maxNodes { truncated = true; return false }
        let taskCols = s.taskColumns.map { "\($0)_task_id".quotedIdentifier }
        let cols = taskCols + s.attributes.map { $0.name.quotedIdentifier }
        guard let r = try db.fetchOne(sql: "SELECT \(cols.joined(separator: ", ")) FROM \(db.dialect.tableSQL(s.table)) WHERE id = ?",
                                       arguments: [row]) else { return false }
        var values: [String: Value] = [:]
        for (i, a) in s.attributes.enumerated() {
            switch r[taskCols.count + i] as SQLValue {
            case .null: continue
            case .integer(let n): values[a.name] = a.type == .numeric ? .number(Double(n)) : .text(String(n))
            case .real(let d): values[a.name] = .number(d)
            case .text(let t): values[a.name] = .text(t)
            case .blob: continue
            }
        }
        var consumers: [(String, Int64)] = []
        for (i, t) in s.taskColumns.enumerated() where i > 0 {
            if let v = r[i] as Int64? { consumers.append((t, v)) }
        }
        let owner = r[0] as Int64?
        elementTasks[id] = (owner, consumers)
        index[id] = nodes.count
        nodes.append(.init(id: id, kind: "entity", set: s.tag, row: row, transformation: s.owner, task: owner,
                           execution: try owner.flatMap { try execution(ofTask: $0) }, depth: depth, values: values))
        return true
    }

    mutating func execution(ofTask task: Int64) throws -> String? {
        try String.fetchOne(db, sql: "SELECT e.tag FROM task t JOIN dataflow_execution e ON e.id = t.df_exec WHERE t.id = ?", arguments: [task])
    }

    /// Adds the task's node (once) and returns its transformation.
    mutating func addTask(_ task: Int64, depth: Int) throws -> String? {
        let id = Self.taskID(task)
        if let i = index[id] { return nodes[i].transformation }
        if nodes.count >= maxNodes { truncated = true; return nil }
        guard let r = try db.fetchOne(sql: """
            SELECT dt.tag, e.tag, t.status, t.start_time, t.end_time, t.identifier FROM task t
            JOIN data_transformation dt ON dt.id = t.dt_id JOIN dataflow_execution e ON e.id = t.df_exec WHERE t.id = ?
            """, arguments: [task]) else { return nil }
        var values: [String: Value] = ["status": .text(r[2]), "identifier": .text(r[5])]
        if let s: String = r[3] { values["start_time"] = .text(s) }
        if let s: String = r[4] { values["end_time"] = .text(s) }
        index[id] = nodes.count
        nodes.append(.init(id: id, kind: "activity", transformation: r[0], task: task, execution: r[1], depth: depth, values: values))
        return r[0]
    }

    /// Rows of `set` that `transformation`'s task `task` added or consumed.
    func rows(of s: SetEntry, transformation: String, task: Int64) throws -> [Int64] {
        guard s.taskColumns.contains(transformation) else { return [] }
        return try Int64.fetchAll(db, sql: "SELECT id FROM \(db.dialect.tableSQL(s.table)) WHERE \("\(transformation)_task_id".quotedIdentifier) = ? ORDER BY id LIMIT \(maxNodes + 1)",
                                  arguments: [task])
    }

    mutating func walk(from start: (String, Int64), depth: Int, back: Bool) throws {
        var frontier = [start]
        var level = 0
        var expanded: Set<String> = []
        while !frontier.isEmpty && level < depth && !truncated {
            level += 1
            var next: [(String, Int64)] = []
            for (setTag, row) in frontier {
                let id = Self.elementID(setTag, row)
                guard expanded.insert(id).inserted, let tasks = elementTasks[id], let s = df.sets[setTag] else { continue }
                let d = back ? -level : level
                if back {
                    // The task that generated it (not one that was merely given it as input).
                    guard let owner = tasks.owner, let ownerTag = s.owner,
                          df.transformations[ownerTag]?.outputs.contains(setTag) ?? false else { continue }
                    guard let t = try addTask(owner, depth: d), let tr = df.transformations[t] else { continue }
                    edge(id, Self.taskID(owner), "wasGeneratedBy")
                    for input in tr.inputs.compactMap({ df.sets[$0] }) where !tr.outputs.contains(input.tag) {
                        for r in try rows(of: input, transformation: t, task: owner) {
                            guard try addElement(input, r, depth: d) else { break }
                            let inID = Self.elementID(input.tag, r)
                            edge(Self.taskID(owner), inID, "used")
                            edge(id, inID, "wasDerivedFrom")
                            next.append((input.tag, r))
                        }
                    }
                } else {
                    var users = tasks.consumers
                    if let owner = tasks.owner, let ownerTag = s.owner, !(df.transformations[ownerTag]?.outputs.contains(setTag) ?? true) {
                        users.insert((ownerTag, owner), at: 0)
                    }
                    for (_, task) in users {
                        guard let t = try addTask(task, depth: d), let tr = df.transformations[t] else { continue }
                        edge(Self.taskID(task), id, "used")
                        for output in tr.outputs.compactMap({ df.sets[$0] }) where output.owner == t {
                            for r in try rows(of: output, transformation: t, task: task) {
                                guard try addElement(output, r, depth: d) else { break }
                                let outID = Self.elementID(output.tag, r)
                                edge(outID, Self.taskID(task), "wasGeneratedBy")
                                edge(outID, id, "wasDerivedFrom")
                                next.append((output.tag, r))
                            }
                        }
                    }
                }
                if truncated { break }
            }
            frontier = next
        }
    }

    /// wasInformedBy between the tasks the walk reached.
    mutating func addInformedBy() throws {
        let tasks = nodes.compactMap { $0.kind == "activity" ? $0.task : nil }
        guard tasks.count > 1 else { return }
        let list = tasks.map(String.init).joined(separator: ",")
        for r in try db.fetchAll(sql: "SELECT task_id, previous_task_id FROM task_dependency WHERE task_id IN (\(list)) AND previous_task_id IN (\(list)) ORDER BY task_id, previous_task_id") {
            edge(Self.taskID(r[0]), Self.taskID(r[1]), "wasInformedBy")
        }
    }
}

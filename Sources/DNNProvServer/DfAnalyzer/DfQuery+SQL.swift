import DNNProvModel
import DNNProvStore
import Foundation

/// What the query language needs of a dataflow: its datasets with their columns, and which
/// datasets each transformation reads and writes. As a graph, datasets are the nodes and each
/// transformation links each of its inputs to each of its outputs (the viewer's graph).
public struct DfDataflowGraph: Sendable, Equatable {
    public struct DataSet: Sendable, Equatable {
        public var tag: String
        /// `<transformation>_task_id` for each transformation that produces or consumes it, producers first.
        public var taskColumns: [String]
        public var attributes: [String]

        public init(tag: String, taskColumns: [String], attributes: [String]) {
            self.tag = tag
            self.taskColumns = taskColumns
            self.attributes = attributes
        }

        /// Every column of `ds_<tag>`: id, the task ids, the attributes.
        public var columns: [String] { ["id"] + taskColumns + attributes }
    }

    public struct Transformation: Sendable, Equatable {
        public var tag: String
        public var inputs: [String]
        public var outputs: [String]

        public init(tag: String, inputs: [String], outputs: [String]) {
            self.tag = tag
            self.inputs = inputs
            self.outputs = outputs
        }
    }

    public var dataflow: String
    public var sets: [DataSet]
    public var transformations: [Transformation]

    public init(dataflow: String, sets: [DataSet], transformations: [Transformation]) {
        self.dataflow = dataflow
        self.sets = sets
        self.transformations = transformations
    }

    /// From the store's listings (`sets(of:)`, `transformations(of:)`).
    public init(dataflow: String, sets: [SetSummary], transformations: [(tag: String, inputs: [String], outputs: [String])]) {
        self.dataflow = dataflow
        self.sets = sets.map { s in
            var seen = Set<String>()
            return DataSet(tag: s.tag, taskColumns: (s.producers + s.consumers).filter { seen.insert($0).inserted }.map { "\($0)_task_id" },
                           attributes: s.attributes.map(\.name))
        }
        self.transformations = transformations.map { Transformation(tag: $0.tag, inputs: $0.inputs, outputs: $0.outputs) }
    }

    /// The dataflow as the store has it now; 404 when there is none so named.
    public init(store: ProvStore, dataflow: String) throws {
        let tag = try Identifier.normalizeDataflow(dataflow)
        self.init(dataflow: tag, sets: try store.sets(of: tag), transformations: try store.transformations(of: tag))
    }
}

extension ProvStore {
    /// Translates a text in DfAnalyzer's query language to one SQL statement over `dataflow`'s
    /// `ds_<set>` tables (to run with `QueryOptions(dataflow:)`). 404 for an unknown dataflow,
    /// 400 with what is wrong for a query that does not parse or does not fit the dataflow.
    public func dfQuerySQL(_ text: String, dataflow: String) throws -> String {
        let graph = try DfDataflowGraph(store: self, dataflow: dataflow)
        return try DfQueryParser.parse(text).sql(over: graph)
    }
}

extension DfQuery {
    /// The most paths one (source, target) pair may have before the query is refused as too broad.
    public static let maxPaths = 256

    /// The SQL of this query over `graph`'s datasets:
    ///
    /// - every simple path of the dataset graph from each source to each target (downstream; when
    ///   there is none, upstream from the target to the source) that passes through every
    ///   `include` dataset and through no `exclude` dataset; a pair without any path is an error;
    /// - the datasets of those paths joined, one `JOIN ... ON` per dataset, on each link of the
    ///   paths: `physical` on the linking transformation's `<transformation>_task_id`, `logical`
    ///   on every attribute both datasets have, `hybrid` on both;
    /// - the projections (default: every attribute of the sources and targets), columns whose
    ///   names collide renamed `<set>_<attribute>`; the selections, all of them (AND); rows in
    ///   the order of the joined datasets' ids.
    ///
    /// Only `ds_<set>` names appear, so the statement runs with the dataflow chosen. Every name in
    /// it is one the dataflow has (quoted where SQL needs it), every value a checked literal.
    public func sql(over graph: DfDataflowGraph) throws(ProvError) -> String {
        var generator = DfSQLGenerator(query: self, graph: graph)
        return try generator.generate()
    }
}

/// The SQL generator behind `DfQuery.sql(over:)`.
struct DfSQLGenerator {
    struct Edge: Hashable {
        var from: String
        var to: String
    }

    let query: DfQuery
    let graph: DfDataflowGraph
    let sets: [String: DfDataflowGraph.DataSet]
    /// Each dataset's successors, in transformation order.
    let next: [String: [String]]
    /// The transformations linking two datasets.
    let links: [Edge: [String]]
    /// The datasets joined, in join order (set by `generate`).
    var joined: [String] = []

    init(query: DfQuery, graph: DfDataflowGraph) {
        self.query = query
        self.graph = graph
        var sets: [String: DfDataflowGraph.DataSet] = [:]
        for s in graph.sets where sets[s.tag] == nil { sets[s.tag] = s }
        self.sets = sets
        var next: [String: [String]] = [:]
        var links: [Edge: [String]] = [:]
        for t in graph.transformations {
            for i in t.inputs where sets[i] != nil {
                for o in t.outputs where o != i && sets[o] != nil {
                    let e = Edge(from: i, to: o)
                    if links[e] == nil { next[i, default: []].append(o) }
                    if !(links[e] ?? []).contains(t.tag) { links[e, default: []].append(t.tag) }
                }
            }
        }
        self.next = next
        self.links = links
    }

    func fail(_ message: String) -> ProvError { .badRequest(message) }

    var datasetList: String { graph.sets.map(\.tag).joined(separator: ", ").clipped(to: 300) }

    /// A dataset as written (`x`, `ds_x`), as the dataflow has it.
    func dataset(_ raw: String) -> String? {
        let name = raw.lowercased()
        if sets[name] != nil { return name }
        if name.hasPrefix("ds_"), sets[String(name.dropFirst(3))] != nil { return String(name.dropFirst(3)) }
        return nil
    }

    func datasets(_ raw: [String], clause: String) throws(ProvError) -> [String] {
        var out: [String] = []
        for r in raw {
            guard let d = dataset(r) else {
                throw fail("\(clause)(...): dataflow '\(graph.dataflow)' has no dataset '\(r.clipped(to: 60))'; its datasets: \(datasetList)")
            }
            if !out.contains(d) { out.append(d) }
        }
        return out
    }

    mutating func generate() throws(ProvError) -> String {
        guard !query.sources.isEmpty else {
            throw fail("the query needs source(...): the dataset(s) its paths start from (e.g. source(itrainingmodel)); datasets: \(datasetList)")
        }
        let sources = try datasets(query.sources, clause: "source")
        var targets = try datasets(query.targets, clause: "target")
        let includes = try datasets(query.includes, clause: "include")
        let excludes = Set(try datasets(query.excludes, clause: "exclude"))
        if targets.isEmpty {
            guard sources.count == 1 else {
                throw fail("the query has several sources and no target(...): name the dataset(s) the paths end at")
            }
            targets = sources
        }

        var nodes: [String] = []
        var edges: [Edge] = []
        for s in sources {
            for t in targets {
                var found = try paths(from: s, to: t, includes: includes, excludes: excludes)
                if found.isEmpty { found = try paths(from: t, to: s, includes: includes, excludes: excludes) }
                guard !found.isEmpty else {
                    var why = "no path of dataflow '\(graph.dataflow)' links '\(s)' and '\(t)'"
                    if !includes.isEmpty { why += " through \(includes.joined(separator: ", "))" }
                    if !excludes.isEmpty { why += " avoiding \(excludes.sorted().joined(separator: ", "))" }
                    if excludes.contains(s) || excludes.contains(t) { why += " (exclude(...) names the \(excludes.contains(s) ? "source" : "target") itself)" }
                    throw fail(why + "; the dataflow's links: " + linkList)
                }
                for path in found {
                    for d in path where !nodes.contains(d) { nodes.append(d) }
                    for (a, b) in zip(path, path.dropFirst()) {
                        let e = links[Edge(from: a, to: b)] != nil ? Edge(from: a, to: b) : Edge(from: b, to: a)
                        if !edges.contains(e) { edges.append(e) }
                    }
                }
            }
        }

        // FROM the first source, then each dataset linked to those already joined.
        joined = [sources[0]]
        var joins: [String] = []
        var remaining = nodes.filter { $0 != sources[0] }
        while !remaining.isEmpty {
            guard let r = remaining.firstIndex(where: { d in joined.contains { edges.contains(Edge(from: $0, to: d)) || edges.contains(Edge(from: d, to: $0)) } })
            else { throw fail("the datasets to join are not linked to each other: \(remaining.joined(separator: ", "))") }
            let d = remaining.remove(at: r)
            var conditions: [String] = []
            for x in joined {
                for e in [Edge(from: x, to: d), Edge(from: d, to: x)] where edges.contains(e) {
                    conditions += try self.conditions(e, new: d, old: x)
                }
            }
            joined.append(d)
            joins.append("JOIN \(table(d)) ON " + conditions.joined(separator: " AND "))
        }

        let columns = try projections(sources: sources, targets: targets)
        let select = columns.joined(separator: ", ")
        var lines = [("SELECT " + select).utf8.count <= 100 ? "SELECT " + select : "SELECT\n  " + columns.joined(separator: ",\n  ")]
        lines.append("FROM \(table(joined[0]))")
        lines += joins
        let selections = try query.selections.map { e throws(ProvError) in try emit(e, depth: 0) }
        for (i, s) in selections.enumerated() {
            let text = s.precedence < Precedence.and && selections.count > 1 ? "(\(s.text))" : s.text
            lines.append(i == 0 ? "WHERE \(text)" : "  AND \(text)")
        }
        lines.append("ORDER BY " + joined.map { column($0, "id") }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }

    var linkList: String {
        let all = graph.transformations.flatMap { t in
            t.inputs.flatMap { i in t.outputs.filter { $0 != i }.map { "\(i) -> \($0) (\(t.tag))" } }
        }
        return all.isEmpty ? "none" : all.joined(separator: ", ").clipped(to: 400)
    }

    /// Every simple path from `s` to `t` through all of `includes` and none of `excludes`.
    func paths(from s: String, to t: String, includes: [String], excludes: Set<String>) throws(ProvError) -> [[String]] {
        guard !excludes.contains(s), !excludes.contains(t) else { return [] }
        if s == t { return includes.allSatisfy { $0 == s } ? [[s]] : [] }
        var result: [[String]] = []
        var path = [s]
        var onPath: Set<String> = [s]
        var steps = 0
        func visit(_ node: String) throws(ProvError) {
            steps += 1
            guard steps <= 100_000 else {
                throw fail("dataflow '\(graph.dataflow)' has too many paths from '\(s)' to '\(t)'; narrow them with include(...) or exclude(...)")
            }
            for n in next[node] ?? [] where !onPath.contains(n) && !excludes.contains(n) {
                if n == t {
                    let p = path + [t]
                    if includes.allSatisfy(p.contains) { result.append(p) }
                    guard result.count <= DfQuery.maxPaths else {
                        throw fail("more than \(DfQuery.maxPaths) paths lead from '\(s)' to '\(t)'; narrow them with include(...) or exclude(...)")
                    }
                    continue
                }
                path.append(n)
                onPath.insert(n)
                try visit(n)
                path.removeLast()
                onPath.remove(n)
            }
        }
        try visit(s)
        return result
    }

    /// The join conditions of one link of a path, written from the dataset being joined (`new`).
    func conditions(_ e: Edge, new: String, old: String) throws(ProvError) -> [String] {
        var out: [String] = []
        if query.mapping != .logical {
            let physical = (links[e] ?? []).map { t in "\(column(new, "\(t)_task_id")) = \(column(old, "\(t)_task_id"))" }
            out.append(physical.count == 1 ? physical[0] : "(" + physical.joined(separator: " OR ") + ")")
        }
        if query.mapping != .physical {
            let later = sets[e.to]?.attributes ?? []
            let common = (sets[e.from]?.attributes ?? []).filter { later.contains($0) }
            if common.isEmpty && query.mapping == .logical {
                throw fail("mapping(logical): datasets '\(e.from)' and '\(e.to)' have no attribute of the same name to join on; use mapping(physical) or mapping(hybrid)")
            }
            out += common.map { "\(column(new, $0)) = \(column(old, $0))" }
        }
        return out
    }

    // MARK: names

    func table(_ set: String) -> String { Self.sqlName("ds_" + set) }
    func column(_ set: String, _ column: String) -> String { table(set) + "." + Self.sqlName(column) }

    /// A name as SQL needs it: bare when it is a plain identifier and no keyword, else quoted.
    static func sqlName(_ s: String) -> String {
        Identifier.isSQLIdentifier(s) && !keywords.contains(s.uppercased()) ? s : "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// SQLite's keywords (https://sqlite.org/lang_keywords.html), plus TRUE and FALSE.
    static let keywords: Set<String> = [
        "ABORT", "ACTION", "ADD", "AFTER", "ALL", "ALTER", "ALWAYS", "ANALYZE", "AND", "AS", "ASC", "ATTACH", "AUTOINCREMENT",
        "BEFORE", "BEGIN", "BETWEEN", "BY", "CASCADE", "CASE", "CAST", "CHECK", "COLLATE", "COLUMN", "COMMIT", "CONFLICT",
        "CONSTRAINT", "CREATE", "CROSS", "CURRENT", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "DATABASE", "DEFAULT",
        "DEFERRABLE", "DEFERRED", "DELETE", "DESC", "DETACH", "DISTINCT", "DO", "DROP", "EACH", "ELSE", "END", "ESCAPE", "EXCEPT",
        "EXCLUDE", "EXCLUSIVE", "EXISTS", "EXPLAIN", "FAIL", "FILTER", "FIRST", "FOLLOWING", "FOR", "FOREIGN", "FROM", "FULL",
        "GENERATED", "GLOB", "GROUP", "GROUPS", "HAVING", "IF", "IGNORE", "IMMEDIATE", "IN", "INDEX", "INDEXED", "INITIALLY",
        "INNER", "INSERT", "INSTEAD", "INTERSECT", "INTO", "IS", "ISNULL", "JOIN", "KEY", "LAST", "LEFT", "LIKE", "LIMIT",
        "MATCH", "MATERIALIZED", "NATURAL", "NO", "NOT", "NOTHING", "NOTNULL", "NULL", "NULLS", "OF", "OFFSET", "ON", "OR",
        "ORDER", "OTHERS", "OUTER", "OVER", "PARTITION", "PLAN", "PRAGMA", "PRECEDING", "PRIMARY", "QUERY", "RAISE", "RANGE",
        "RECURSIVE", "REFERENCES", "REGEXP", "REINDEX", "RELEASE", "RENAME", "REPLACE", "RESTRICT", "RETURNING", "RIGHT",
        "ROLLBACK", "ROW", "ROWS", "SAVEPOINT", "SELECT", "SET", "TABLE", "TEMP", "TEMPORARY", "THEN", "TIES", "TO",
        "TRANSACTION", "TRIGGER", "UNBOUNDED", "UNION", "UNIQUE", "UPDATE", "USING", "VACUUM", "VALUES", "VIEW", "VIRTUAL",
        "WHEN", "WHERE", "WINDOW", "WITH", "WITHOUT", "TRUE", "FALSE",
    ]

    /// The dataset and column an attribute reference stands for, among the joined datasets.
    func resolve(_ ref: DfQuery.Reference, clause: String) throws(ProvError) -> (set: String, column: String) {
        var parts = ref.parts.map { $0.text.lowercased() }
        if parts.count >= 3, parts[0] == graph.dataflow { parts.removeFirst() }
        guard !parts.isEmpty else { throw fail("\(clause)(...): an empty attribute name") }
        if parts.count == 1 {
            let name = parts[0]
            let holders = joined.filter { sets[$0]?.columns.contains(name) ?? false }
            if holders.count == 1 { return (holders[0], name) }
            if holders.count > 1 {
                throw fail("\(clause)(...): '\(ref)' is in several datasets joined (\(holders.joined(separator: ", "))); "
                    + "write one of \(holders.map { "\($0).\(name)" }.joined(separator: ", "))")
            }
            let elsewhere = graph.sets.filter { $0.columns.contains(name) }.map(\.tag)
            if !elsewhere.isEmpty {
                throw fail("\(clause)(...): '\(ref)' is in \(elsewhere.joined(separator: ", ")), which the query does not join "
                    + "(it joins \(joined.joined(separator: ", "))); add it with include(...) or make it a source or target")
            }
            throw fail("\(clause)(...): no dataset of dataflow '\(graph.dataflow)' has an attribute '\(name.clipped(to: 60))'")
        }
        for k in 1..<parts.count {
            guard let set = dataset(parts[0..<k].joined(separator: ".")) else { continue }
            let name = parts[k...].joined(separator: ".")
            guard let columns = sets[set]?.columns, columns.contains(name) else {
                throw fail("\(clause)(...): dataset '\(set)' has no attribute '\(name.clipped(to: 60))'; it has "
                    + (sets[set]?.attributes ?? []).joined(separator: ", ").clipped(to: 300))
            }
            try requireJoined(set, ref: ref, clause: clause)
            return (set, name)
        }
        throw fail("\(clause)(...): dataflow '\(graph.dataflow)' has no dataset '\(parts.dropLast().joined(separator: ".").clipped(to: 60))' (in '\(ref)'); its datasets: \(datasetList)")
    }

    func requireJoined(_ set: String, ref: DfQuery.Reference, clause: String) throws(ProvError) {
        guard joined.contains(set) else {
            throw fail("\(clause)(...): '\(ref)' is in dataset '\(set)', which the query does not join "
                + "(it joins \(joined.joined(separator: ", "))); add include(\(set)) or make it a source or target")
        }
    }

    // MARK: projection

    mutating func projections(sources: [String], targets: [String]) throws(ProvError) -> [String] {
        var picked: [(set: String, column: String, alias: String?)] = []
        if query.projections.isEmpty {
            var seen: [String] = []
            for s in sources + targets where !seen.contains(s) {
                seen.append(s)
                picked += (sets[s]?.attributes ?? []).map { (s, $0, nil) }
            }
        }
        for p in query.projections {
            let ref = p.reference
            if ref.star {
                let expanded: [String]
                if ref.parts.isEmpty {
                    expanded = joined
                } else {
                    let name = ref.parts.map { $0.text.lowercased() }.joined(separator: ".")
                    guard let set = dataset(name) else {
                        throw fail("projection(...): dataflow '\(graph.dataflow)' has no dataset '\(name.clipped(to: 60))'; its datasets: \(datasetList)")
                    }
                    try requireJoined(set, ref: ref, clause: "projection")
                    expanded = [set]
                }
                for s in expanded { picked += (sets[s]?.attributes ?? []).map { (s, $0, nil) } }
            } else {
                let (set, column) = try resolve(ref, clause: "projection")
                picked.append((set, column, p.alias?.text))
            }
        }
        guard !picked.isEmpty else { throw fail("projection(...): the datasets projected have no attributes") }
        // Columns whose result names collide are renamed <set>_<column>.
        var counts: [String: Int] = [:]
        for p in picked { counts[(p.alias ?? p.column).lowercased(), default: 0] += 1 }
        return picked.map { p in
            let c = column(p.set, p.column)
            if let alias = p.alias { return "\(c) AS \(Self.sqlName(alias))" }
            return counts[p.column.lowercased(), default: 0] > 1 ? "\(c) AS \(Self.sqlName("\(p.set)_\(p.column)"))" : c
        }
    }

    // MARK: selections

    enum Precedence {
        static let or = 1, and = 2, not = 3, comparison = 4, additive = 5, multiplicative = 6, concat = 7, unary = 8, primary = 9
    }

    static let binaryPrecedence: [String: Int] = [
        "OR": Precedence.or, "AND": Precedence.and,
        "=": Precedence.comparison, "!=": Precedence.comparison, "<>": Precedence.comparison, "<": Precedence.comparison,
        "<=": Precedence.comparison, ">": Precedence.comparison, ">=": Precedence.comparison, "LIKE": Precedence.comparison,
        "NOT LIKE": Precedence.comparison, "GLOB": Precedence.comparison, "NOT GLOB": Precedence.comparison,
        "IS": Precedence.comparison, "IS NOT": Precedence.comparison,
        "+": Precedence.additive, "-": Precedence.additive,
        "*": Precedence.multiplicative, "/": Precedence.multiplicative, "%": Precedence.multiplicative,
        "||": Precedence.concat,
    ]

    /// A number as the parser reads them: digits, an optional fraction, an optional exponent.
    static func isNumber(_ s: String) -> Bool {
        let b = Array(s.utf8)
        var i = 0
        func digits() -> Int {
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            return i - start
        }
        var n = digits()
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            n += digits()
        }
        guard n > 0 else { return false }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return false }
        }
        return i == b.count
    }

    static func stringLiteral(_ s: String) throws(ProvError) -> String {
        guard !s.unicodeScalars.contains("\u{0}") else { throw .badRequest("selection(...): a string holds a NUL character") }
        return "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// The SQL of a selection and its precedence (to parenthesize it where it is an operand).
    func emit(_ e: DfQuery.Expression, depth: Int) throws(ProvError) -> (text: String, precedence: Int) {
        guard depth <= DfQueryParser.maxDepth * 2 else { throw fail("selection(...): the condition nests too deeply") }
        func operand(_ x: DfQuery.Expression, atLeast p: Int) throws(ProvError) -> String {
            let r = try emit(x, depth: depth + 1)
            return r.precedence >= p ? r.text : "(\(r.text))"
        }
        switch e {
        case .literal(let l):
            switch l {
            case .number(let n):
                guard Self.isNumber(n) else { throw fail("selection(...): '\(n.clipped(to: 40))' is not a number") }
                return (n, Precedence.primary)
            case .string(let s): return (try Self.stringLiteral(s), Precedence.primary)
            case .null: return ("NULL", Precedence.primary)
            case .bool(let b): return (b ? "TRUE" : "FALSE", Precedence.primary)
            }
        case .column(let ref):
            guard !ref.star else { throw fail("selection(...): '\(ref)' stands for several columns; compare one attribute") }
            do {
                let (set, name) = try resolve(ref, clause: "selection")
                return (column(set, name), Precedence.primary)
            } catch {
                // As SQLite does: a double-quoted word that names no column is a string ("adam").
                if ref.parts.count == 1, ref.parts[0].quoted { return (try Self.stringLiteral(ref.parts[0].text), Precedence.primary) }
                throw error
            }
        case .unary(let op, let x):
            switch op {
            case "NOT": return ("NOT " + (try operand(x, atLeast: Precedence.not)), Precedence.not)
            case "-", "+":
                // Never `--`: that would start a comment.
                let r = try emit(x, depth: depth + 1)
                let inner = r.precedence >= Precedence.primary && !r.text.hasPrefix("-") && !r.text.hasPrefix("+") ? r.text : "(\(r.text))"
                return (op + inner, Precedence.unary)
            default: throw fail("selection(...): unknown operator '\(op.clipped(to: 20))'")
            }
        case .binary(let op, let l, let r):
            guard let p = Self.binaryPrecedence[op] else { throw fail("selection(...): unknown operator '\(op.clipped(to: 20))'") }
            let associative = op == "AND" || op == "OR"
            let leftMin = p == Precedence.comparison ? p + 1 : p
            let rightMin = associative ? p : p + 1
            return ("\(try operand(l, atLeast: leftMin)) \(op) \(try operand(r, atLeast: rightMin))", p)
        case .inList(let x, let not, let items):
            let list = try items.map { i throws(ProvError) in try operand(i, atLeast: Precedence.additive) }.joined(separator: ", ")
            return ("\(try operand(x, atLeast: Precedence.additive))\(not ? " NOT" : "") IN (\(list))", Precedence.comparison)
        case .between(let x, let not, let low, let high):
            return ("\(try operand(x, atLeast: Precedence.additive))\(not ? " NOT" : "") BETWEEN "
                + "\(try operand(low, atLeast: Precedence.additive)) AND \(try operand(high, atLeast: Precedence.additive))", Precedence.comparison)
        case .group(let x):
            return ("(\(try emit(x, depth: depth + 1).text))", Precedence.primary)
        }
    }
}

import Crypto
import DNNProvModel
import Foundation

/// Reads a PROV-JSON document (ours, or one written by yProv4ML, DLProv, the `prov` package)
/// into a dataflow specification and task events, which then go through `register` and
/// `ingest` like any client's (docs/prov-mapping.md, "Import").
struct ProvImportPlan {
    var spec: DataflowSpec
    /// Two passes: each task's rows, then each task's dependencies and end (the consumer
    /// columns are set once the rows they point at are stored).
    var rowEvents: [TaskEvent]
    var endEvents: [TaskEvent]
    var executions: [String]
    var elements: Int
    var warnings: [String]

    struct Node {
        var id: String
        var attributes: [(String, Any)]
        var start: String?
        var end: String?
        var bundle: String?
        func values(_ key: String) -> [Any] { attributes.filter { $0.0 == key }.map(\.1) }
        func text(_ key: String) -> String? { values(key).first.flatMap(ProvImportPlan.text) }
        var types: [String] { values("prov:type").compactMap(ProvImportPlan.text) }
    }

    struct Relation { var kind: String; var fields: [String: Any]; var bundle: String?
        func ref(_ key: String) -> String? { fields[key].flatMap(ProvImportPlan.text) }
    }

    static func text(_ v: Any) -> String? {
        if let s = v as? String { return s }
        if let d = v as? [String: Any] { return d["$"].flatMap(text) }
        if let n = v as? NSNumber { return n.stringValue }
        return nil
    }

    static func value(_ v: Any) -> Value {
        if let n = v as? NSNumber {
            return .number(n.doubleValue)
        }
        if let s = v as? String { return .text(s) }
        if let d = v as? [String: Any] {
            let raw = d["$"]
            let type = (d["type"] as? String)?.lowercased() ?? ""
            let numeric = ["xsd:double", "xsd:float", "xsd:decimal", "xsd:int", "xsd:integer", "xsd:long", "xsd:short",
                           "xsd:byte", "xsd:nonnegativeinteger", "xsd:positiveinteger", "xsd:unsignedint", "xsd:unsignedlong"]
            if numeric.contains(type), let t = raw.flatMap(text) {
                switch t { case "INF": return .number(.infinity); case "-INF": return .number(-.infinity); case "NaN": return .number(.nan)
                default: if let x = Double(t) { return .number(x) } }
            }
            if let n = raw as? NSNumber { return value(n) }
            return raw.flatMap(text).map(Value.text) ?? .null
        }
        if let a = v as? [Any], let first = a.first { return value(first) }
        return .null
    }

    /// The local part of a qualified name.
    static func local(_ q: String) -> String {
        if let i = q.lastIndex(where: { $0 == ":" || $0 == "#" || $0 == "/" }) { return String(q[q.index(after: i)...]) }
        return q
    }

    /// A name the store accepts (letters, digits, `_`, `-`, `.`, starting with a letter or `_`).
    static func name(_ raw: String, fallback: String) -> String {
        var s = String(raw.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") ? $0 : "_" })
        if s.isEmpty { s = fallback }
        if let f = s.first, !(f.isLetter || f == "_") { s = "_" + s }
        if s.count > 100 { s = String(s.prefix(100)) }
        return s
    }

    static func epoch(_ time: String?) -> Double? {
        guard let time else { return nil }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: time) { return d.timeIntervalSince1970 }
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: time) { return d.timeIntervalSince1970 }
        var t = time
        if !t.hasSuffix("Z") && !t.contains("+") && t.count <= 23 { t += "Z" }
        f.formatOptions = [.withFullDate, .withFullTime, .withFractionalSeconds, .withTimeZone]
        return f.date(from: t)?.timeIntervalSince1970
    }

    static let relationKinds = ["wasGeneratedBy", "used", "wasInformedBy", "wasDerivedFrom", "wasAssociatedWith", "actedOnBehalfOf",
                                "wasAttributedTo", "hadMember", "wasStartedBy", "wasEndedBy", "wasInvalidatedBy", "wasInfluencedBy",
                                "specializationOf", "alternateOf", "mentionOf", "hadPrimarySource", "wasQuotedFrom", "wasRevisionOf"]

    init(data: Data, dataflow requested: String?) throws {
        guard let doc = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ProvError.badRequest("the body is not a PROV-JSON document (a JSON object with entity, activity, agent, ... members)")
        }
        var entities: [Node] = [], activities: [Node] = [], agents: [Node] = [], relations: [Relation] = []
        var warnings: [String] = []
        func records(_ section: Any?, _ body: (String, [String: Any]) -> Void) {
            guard let map = section as? [String: Any] else { return }
            for (id, v) in map.sorted(by: { $0.key < $1.key }) {
                if let d = v as? [String: Any] { body(id, d) } else if let a = v as? [[String: Any]] { a.forEach { body(id, $0) } }
            }
        }
        func read(_ d: [String: Any], bundle: String?) {
            for (kind, target) in [("entity", 0), ("activity", 1), ("agent", 2)] {
                records(d[kind]) { id, attrs in
                    var n = Node(id: id, attributes: [], bundle: bundle)
                    for (k, v) in attrs.sorted(by: { $0.key < $1.key }) {
                        if k == "prov:startTime" { n.start = Self.text(v); continue }
                        if k == "prov:endTime" { n.end = Self.text(v); continue }
                        if let a = v as? [Any] { for x in a { n.attributes.append((k, x)) } } else { n.attributes.append((k, v)) }
                    }
                    switch target { case 0: entities.append(n); case 1: activities.append(n); default: agents.append(n) }
                }
            }
            for kind in Self.relationKinds {
                records(d[kind]) { _, fields in relations.append(Relation(kind: kind, fields: fields, bundle: bundle)) }
            }
        }
        read(doc, bundle: nil)
        records(doc["bundle"]) { id, b in read(b, bundle: id) }
        for k in doc.keys where !["prefix", "entity", "activity", "agent", "bundle"].contains(k) && !Self.relationKinds.contains(k) {
            warnings.append("'\(k.clipped())' records are not imported")
        }

        let plan = entities.first { $0.types.contains("prov:Plan") && $0.text("dnnprov:dataflow") != nil }
        let tag = try Identifier.normalizeDataflow(requested ?? plan?.text("dnnprov:dataflow") ?? "imported")
        let digest = SHA256.hash(data: data).prefix(8).map { String(format: "%02x", $0) }.joined()

        // Executions: our Execution activities; otherwise one per bundle, one for the document.
        var execTag: [String: String] = [:]   // execution activity id -> tag
        for a in activities where a.types.contains("dnnprov:Execution") {
            execTag[a.id] = a.text("dnnprov:tag") ?? a.text("prov:label") ?? Self.local(a.id)
        }
        func defaultExecution(_ bundle: String?) -> String { bundle.map { "prov-" + Self.local($0) } ?? "prov-\(digest)" }
        struct TaskInfo { var id: String; var transformation: String; var identifier: String; var execution: String; var status: TaskStatus
            var start: Double?; var end: Double? }
        var tasks: [String: TaskInfo] = [:]
        var taskOrder: [String] = []
        // Activities in the order they ran (then by their names, numbers compared as numbers).
        func natural(_ id: String) -> (String, Int) {
            let digits = id.reversed().prefix { $0.isNumber }
            return (String(id.dropLast(digits.count)), Int(String(digits.reversed())) ?? -1)
        }
        activities.sort { a, b in
            let ta = Self.epoch(a.start) ?? .infinity, tb = Self.epoch(b.start) ?? .infinity
            if ta != tb { return ta < tb }
            return natural(a.id) < natural(b.id)
        }
        for a in activities where execTag[a.id] == nil {
            let tr = a.text("dnnprov:transformation")
                ?? a.types.first { !$0.hasPrefix("prov:") && !$0.hasPrefix("dnnprov:") }.map { Self.local($0) }
                ?? "activity"
            let exec = a.values("dnnprov:execution").compactMap(Self.text).first.flatMap { execTag[$0] } ?? defaultExecution(a.bundle)
            let status = a.text("dnnprov:status").flatMap { TaskStatus(rawValue: $0.uppercased()) } ?? .finished
            tasks[a.id] = TaskInfo(id: a.id, transformation: Self.name(tr.replacingOccurrences(of: "transformation-", with: ""), fallback: "activity"),
                                   identifier: a.text("dnnprov:identifier") ?? a.id, execution: exec,
                                   status: status, start: Self.epoch(a.start), end: Self.epoch(a.end))
            taskOrder.append(a.id)
        }
        // Who generated and who used each entity.
        var generatedBy: [String: String] = [:], usedBy: [String: [String]] = [:], informedBy: [String: [String]] = [:]
        for r in relations {
            switch r.kind {
            case "wasGeneratedBy":
                if let e = r.ref("prov:entity"), let a = r.ref("prov:activity"), tasks[a] != nil, generatedBy[e] == nil { generatedBy[e] = a }
            case "used":
                if let e = r.ref("prov:entity"), let a = r.ref("prov:activity"), tasks[a] != nil { usedBy[e, default: []].append(a) }
            case "wasInformedBy":
                if let a = r.ref("prov:informed"), let b = r.ref("prov:informant"), tasks[a] != nil, tasks[b] != nil { informedBy[a, default: []].append(b) }
            default: break
            }
        }
        // Entities that are elements: not plans, collections or files; owned by their generator,
        // else by the first task that used them, else by a task standing for the document.
        struct SetBuild { var tag: String; var owner: String; var output: Bool; var attributes: [String] = []; var numeric: [String: Bool] = [:]
            var consumers: Set<String> = [] }
        var setBuilds: [String: SetBuild] = [:]
        var setOrder: [String] = []
        var rows: [String: [String: [(attrs: [String], values: [Value])]]] = [:]  // task -> set -> rows
        var files: [String: [FileRef]] = [:]
        var elements = 0
        for e in entities {
            let types = e.types
            if types.contains("prov:Plan") || types.contains("prov:Collection") || types.contains("prov:EmptyCollection") { continue }
            if types.contains("dnnprov:File") {
                if let a = generatedBy[e.id], let name = e.text("dnnprov:name"), let path = e.text("dnnprov:path") {
                    files[a, default: []].append(FileRef(name: name, path: path))
                }
                continue
            }
            var ownerTask = generatedBy[e.id]
            let output = ownerTask != nil
            if ownerTask == nil { ownerTask = usedBy[e.id]?.first }
            if ownerTask == nil {
                let synthetic = "prov-entities:" + (e.bundle ?? "")
                if tasks[synthetic] == nil {
                    tasks[synthetic] = TaskInfo(id: synthetic, transformation: "prov_entities", identifier: "entities",
                                                execution: defaultExecution(e.bundle), status: .finished, start: nil, end: nil)
                    taskOrder.append(synthetic)
                }
                ownerTask = synthetic
            }
            let owner = tasks[ownerTask!]!
            let ours = e.text("dnnprov:set")
            let base = Self.name(ours ?? types.first { !$0.hasPrefix("prov:") && !$0.hasPrefix("dnnprov:") }.map { Self.local($0) } ?? "entity",
                                 fallback: "entity")
            var setTag = base
            if let b = setBuilds[setTag], b.owner != owner.transformation || b.output != output {
                setTag = Self.name("\(base)_\(owner.transformation)\(output ? "" : "_in")", fallback: "entity")
            }
            if setBuilds[setTag] == nil {
                setBuilds[setTag] = SetBuild(tag: setTag, owner: owner.transformation, output: output)
                setOrder.append(setTag)
            }
            var names: [String] = [], values: [Value] = []
            if ours == nil { names.append("prov_id"); values.append(.text(e.id)) }
            for (k, v) in e.attributes where k != "prov:type" && k != "dnnprov:set" {
                var n = Self.name(k == "prov:label" ? "label" : Self.local(k), fallback: "value")
                if n == "id" || n.hasSuffix("_task_id") { n += "_" }
                if names.contains(n) { continue }
                names.append(n)
                values.append(Self.value(v))
            }
            var b = setBuilds[setTag]!
            for (n, v) in zip(names, values) {
                if !b.attributes.contains(n) { b.attributes.append(n) }
                if case .text = v { b.numeric[n] = false } else if b.numeric[n] == nil, case .number = v { b.numeric[n] = true }
            }
            for user in usedBy[e.id] ?? [] where user != ownerTask {
                if let u = tasks[user], u.transformation != owner.transformation { b.consumers.insert(u.transformation) }
            }
            setBuilds[setTag] = b
            rows[ownerTask!, default: [:]][setTag, default: []].append((names, values))
            elements += 1
        }
        // Values of a NUMERIC attribute that came as text stay text: such attributes are TEXT.
        for (tag, b) in setBuilds {
            var nb = b
            for n in b.attributes where b.numeric[n] == nil { nb.numeric[n] = false }
            setBuilds[tag] = nb
        }
        // A task that used rows another task owns depends on it.
        var dependsOn: [String: [String]] = informedBy
        for (entity, users) in usedBy {
            guard let producer = generatedBy[entity] ?? nil else { continue }
            for u in users where u != producer && !(dependsOn[u]?.contains(producer) ?? false) {
                if tasks[u]?.transformation != tasks[producer]?.transformation { dependsOn[u, default: []].append(producer) }
            }
        }

        // The specification: each transformation with the sets it owns and those it consumes.
        var transformationOrder: [String] = (plan?.values("dnnprov:transformation").compactMap(Self.text) ?? [])
            .map { Self.name($0, fallback: "activity") }
            .filter { t in taskOrder.contains { tasks[$0]!.transformation == t } }
        for id in taskOrder where !transformationOrder.contains(tasks[id]!.transformation) { transformationOrder.append(tasks[id]!.transformation) }
        var specs: [String: TransformationSpec] = [:]
        for t in transformationOrder { specs[t] = TransformationSpec(tag: t, sets: []) }
        for tag in setOrder {
            let b = setBuilds[tag]!
            let attrs = b.attributes.map { AttributeSpec(name: $0, type: b.numeric[$0] == true ? .numeric : .text) }
            specs[b.owner]!.sets.append(SetSpec(tag: tag, role: b.output ? .output : .input, attributes: attrs))
            for c in b.consumers.sorted() where b.output {
                specs[c]!.sets.append(SetSpec(tag: tag, role: .input, attributes: [], dependency: b.owner))
            }
        }
        // Producers before consumers.
        var ordered: [TransformationSpec] = []
        var placed: Set<String> = []
        while ordered.count < transformationOrder.count {
            let before = ordered.count
            for t in transformationOrder where !placed.contains(t) {
                let deps = specs[t]!.sets.compactMap(\.dependency).filter { $0 != t }
                if deps.allSatisfy(placed.contains) { ordered.append(specs[t]!); placed.insert(t) }
            }
            if ordered.count == before {
                for t in transformationOrder where !placed.contains(t) { ordered.append(specs[t]!); placed.insert(t) }
            }
        }
        spec = DataflowSpec(tag: tag, transformations: ordered)

        // Agents become the executions' user, host and script.
        var agentExecution: [String: String] = [:]
        for r in relations where r.kind == "wasAssociatedWith" {
            guard let a = r.ref("prov:activity"), let ag = r.ref("prov:agent") else { continue }
            if let e = execTag[a] { agentExecution[ag] = e } else if let t = tasks[a] { agentExecution[ag] = agentExecution[ag] ?? t.execution }
        }
        var infos: [String: ExecutionInfo] = [:]
        for ag in agents {
            let exec = agentExecution[ag.id] ?? defaultExecution(ag.bundle)
            var info = infos[exec] ?? ExecutionInfo()
            let types = ag.types
            let label = ag.text("prov:label") ?? Self.local(ag.id)
            if types.contains("prov:Person") {
                info.user = info.user ?? ag.text("dnnprov:user") ?? label
                info.email = info.email ?? ag.text("dnnprov:email") ?? ag.text("foaf:mbox")
            } else if types.contains("prov:SoftwareAgent") {
                info.script = info.script ?? ag.text("dnnprov:script") ?? label
            } else {
                info.host = info.host ?? ag.text("dnnprov:host") ?? label
                info.hardware = info.hardware ?? ag.text("dnnprov:hardware")
            }
            infos[exec] = info
        }

        var rowEvents: [TaskEvent] = [], endEvents: [TaskEvent] = []
        var executions: [String] = []
        var infoSent: Set<String> = []
        for id in taskOrder {
            let t = tasks[id]!
            if !executions.contains(t.execution) { executions.append(t.execution) }
            var sets: [ElementSet] = []
            for (setTag, list) in (rows[id] ?? [:]).sorted(by: { $0.key < $1.key }) {
                // Rows with the same attributes go together.
                var groups: [[String]: [[Value]]] = [:]
                var groupOrder: [[String]] = []
                for r in list {
                    let values = zip(r.attrs, r.values).map { (n, v) -> Value in
                        if setBuilds[setTag]!.numeric[n] == false, case .number = v { return .text(v.text ?? "") }
                        return v
                    }
                    if groups[r.attrs] == nil { groupOrder.append(r.attrs) }
                    groups[r.attrs, default: []].append(values)
                }
                for g in groupOrder { sets.append(ElementSet(tag: setTag, attributes: g, elements: groups[g]!)) }
            }
            let info = infoSent.insert(t.execution).inserted ? infos[t.execution] : nil
            let key = "prov-import:\(digest):\(id)"
            rowEvents.append(TaskEvent(key: key + ":rows", dataflow: tag, execution: t.execution, transformation: t.transformation,
                                       task: t.identifier, status: .running, time: t.start, sets: sets, files: files[id] ?? [],
                                       executionInfo: info))
            let deps = (dependsOn[id] ?? []).compactMap { d in tasks[d].map { TaskRef(transformation: $0.transformation, task: $0.identifier) } }
            endEvents.append(TaskEvent(key: key + ":end", dataflow: tag, execution: t.execution, transformation: t.transformation,
                                       task: t.identifier, status: t.status, time: t.end ?? t.start, dependencies: deps))
        }
        for (e, _) in infos where !executions.contains(e) { warnings.append("agents of '\(e.clipped())' have no activity and were not imported") }
        let derivations = relations.filter { $0.kind == "wasDerivedFrom" }.count
        if derivations > 0 { warnings.append("\(derivations) wasDerivedFrom relations are implied by used and wasGeneratedBy, not stored") }
        self.rowEvents = rowEvents
        self.endEvents = endEvents
        self.executions = executions
        self.elements = elements
        self.warnings = warnings
    }
}

extension ProvStore {
    /// Imports a PROV-JSON document through the normal write path: `register` for the plan it
    /// implies, `ingest` for its tasks and rows (idempotency keys derived from the document, so
    /// importing it again stores nothing twice). `check`: the server's limits on each batch.
    public func importProv(_ data: Data, dataflow: String? = nil, maxEventsPerBatch: Int = 1000, maxRowsPerBatch: Int = 100_000,
                           check: (DataflowSpec, [TaskEvent]) throws -> Void = { _, _ in }) async throws -> ProvImportResult {
        let plan = try ProvImportPlan(data: data, dataflow: dataflow)
        guard !plan.spec.transformations.isEmpty else {
            throw ProvError.unprocessable("the document has no activities or entities to import")
        }
        try check(plan.spec, [])
        _ = try await register(plan.spec)
        var duplicates = 0
        for events in [plan.rowEvents, plan.endEvents] {
            var batch: [TaskEvent] = []
            var rows = 0
            func flush() async throws {
                guard !batch.isEmpty else { return }
                try check(plan.spec, batch)
                duplicates += try await ingest(batch, options: .strict, tagIndexes: false).duplicates
                batch.removeAll()
                rows = 0
            }
            for e in events {
                let n = e.sets.reduce(0) { $0 + $1.elements.count }
                if !batch.isEmpty && (batch.count >= maxEventsPerBatch || rows + n > maxRowsPerBatch) { try await flush() }
                batch.append(e)
                rows += n
            }
            try await flush()
        }
        return ProvImportResult(dataflow: plan.spec.tag, executions: plan.executions, tasks: plan.rowEvents.count, elements: plan.elements,
                                sets: plan.spec.transformations.flatMap { $0.sets.filter { $0.dependency == nil }.map(\.tag) },
                                duplicates: duplicates / 2, warnings: plan.warnings)
    }
}

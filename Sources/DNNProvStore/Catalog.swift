import DNNProvModel
import Foundation

/// The registered dataflows, in memory: what ingestion validates against and what queries
/// resolve names with. The writer owns a working copy; readers see the last committed one.
package struct Catalog: Sendable {
    package var dataflows: [String: DataflowEntry] = [:]

    /// Grows with every change to the catalog (dataflow versions only grow, dataflows are never
    /// removed): a server compares stamps to know whether another server changed it.
    package var stamp: Int { dataflows.values.reduce(dataflows.count) { $0 + $1.version } }

    /// The dataflow a request names (as sent, or normalised), nil when there is none: for
    /// the lookups made ahead of a request, which leave refusing it to the events themselves.
    package func dataflow(named name: String) -> DataflowEntry? {
        dataflows[name] ?? (try? Identifier.normalizeDataflow(name)).flatMap { dataflows[$0] }
    }

    package func dataflow(_ tag: String) throws(ProvError) -> DataflowEntry {
        guard let df = dataflows[tag] else { throw .notFound("unknown dataflow '\(tag)'") }
        return df
    }

    package static func load(_ db: any SQLDatabase) throws -> Catalog {
        var catalog = Catalog()
        for row in try db.fetchAll(sql: "SELECT id, tag, version FROM dataflow") {
            let df = DataflowEntry(id: row["id"], tag: row["tag"], version: row["version"])
            catalog.dataflows[df.tag] = df
        }
        var dfByID: [Int64: String] = [:]
        for df in catalog.dataflows.values { dfByID[df.id] = df.tag }
        var dtTag: [Int64: (df: String, tag: String)] = [:]
        for row in try db.fetchAll(sql: "SELECT id, df_id, tag FROM data_transformation ORDER BY id") {
            guard let df = dfByID[row["df_id"]] else { continue }
            let t = TransformationEntry(id: row["id"], tag: row["tag"])
            catalog.dataflows[df]!.transformations[t.tag] = t
            catalog.dataflows[df]!.transformationOrder.append(t.tag)
            dtTag[t.id] = (df, t.tag)
        }
        var dsTag: [Int64: (df: String, tag: String)] = [:]
        for row in try db.fetchAll(sql: "SELECT id, df_id, tag, table_name FROM data_set ORDER BY id") {
            guard let df = dfByID[row["df_id"]] else { continue }
            let s = SetEntry(id: row["id"], tag: row["tag"], table: row["table_name"])
            catalog.dataflows[df]!.sets[s.tag] = s
            catalog.dataflows[df]!.setOrder.append(s.tag)
            dsTag[s.id] = (df, s.tag)
        }
        for row in try db.fetchAll(sql: "SELECT ds_id, name, type FROM attribute ORDER BY ds_id, position") {
            guard let (df, set) = dsTag[row["ds_id"]] else { continue }
            catalog.dataflows[df]!.sets[set]!.attributes.append(
                AttributeSpec(name: row["name"], type: AttributeType(rawValue: row["type"])))
        }
        for row in try db.fetchAll(sql: "SELECT previous_dt_id, next_dt_id, ds_id FROM data_dependency ORDER BY id") {
            guard let (df, set) = dsTag[row["ds_id"]] else { continue }
            let prev: String? = (row["previous_dt_id"] as Int64?).flatMap { dtTag[$0]?.tag }
            let next: String? = (row["next_dt_id"] as Int64?).flatMap { dtTag[$0]?.tag }
            catalog.dataflows[df]!.addEdge(set: set, producer: prev, consumer: next)
        }
        // The task columns of each table, in their physical order.
        for (dfTag, df) in catalog.dataflows {
            for (setTag, s) in df.sets {
                let cols = try db.dialect.columns(db, table: s.table)
                catalog.dataflows[dfTag]!.sets[setTag]!.taskColumns = cols
                    .filter { $0.hasSuffix("_task_id") }
                    .map { String($0.dropLast("_task_id".count)) }
            }
        }
        return catalog
    }
}

package struct DataflowEntry: Sendable {
    package var id: Int64
    package var tag: String
    package var version: Int
    var transformations: [String: TransformationEntry] = [:]
    var transformationOrder: [String] = []
    package var sets: [String: SetEntry] = [:]
    var setOrder: [String] = []

    init(id: Int64, tag: String, version: Int) {
        self.id = id
        self.tag = tag
        self.version = version
    }

    func transformation(_ tag: String) throws(ProvError) -> TransformationEntry {
        guard let t = transformations[tag] else {
            throw .notFound("unknown transformation '\(tag)' in dataflow '\(self.tag)'")
        }
        return t
    }

    func set(_ tag: String) throws(ProvError) -> SetEntry {
        guard let s = sets[tag] else { throw .notFound("unknown set '\(tag)' in dataflow '\(self.tag)'") }
        return s
    }

    /// Records that `producer` outputs `set` and/or `consumer` takes it as input.
    mutating func addEdge(set: String, producer: String?, consumer: String?) {
        if let p = producer {
            sets[set]?.producers.insert(p)
            if !(transformations[p]?.outputs.contains(set) ?? true) { transformations[p]?.outputs.append(set) }
        }
        if let c = consumer {
            if !(transformations[c]?.inputs.contains(set) ?? true) { transformations[c]?.inputs.append(set) }
            if let p = producer { transformations[c]?.inputDependencies[set] = p }
        }
    }
}

package struct TransformationEntry: Sendable {
    var id: Int64
    var tag: String
    var inputs: [String] = []
    var outputs: [String] = []
    /// For an input set produced by another transformation: that transformation.
    var inputDependencies: [String: String] = [:]

    init(id: Int64, tag: String) {
        self.id = id
        self.tag = tag
    }

    func uses(_ set: String) -> Bool { inputs.contains(set) || outputs.contains(set) }
}

package struct SetEntry: Sendable {
    package var id: Int64
    package var tag: String
    /// The physical table, `<dataflow>__ds_<set>` (made safe: `mnist.v2` -> `mnist_v2`), kept in
    /// `data_set.table_name`. Queries reach it by the set's tag, never by this name.
    package var table: String
    package var attributes: [AttributeSpec] = []
    /// Transformations with a `<tag>_task_id` column, in physical column order. The first is the
    /// owner: the transformation whose tasks add the rows (the table is clustered by it).
    package var taskColumns: [String] = []

    var owner: String? { taskColumns.first }
    var producers: Set<String> = []

    package init(id: Int64, tag: String, table: String) {
        self.id = id
        self.tag = tag
        self.table = table
    }

    /// Column order as queries see it: id, task columns with producers first, attributes.
    var orderedTaskColumns: [String] {
        taskColumns.filter { producers.contains($0) } + taskColumns.filter { !producers.contains($0) }
    }

    /// The columns of `ds_<set>` as queries see them, in the seeds' order (unquoted).
    package var viewColumns: [String] {
        ["id"] + orderedTaskColumns.map { "\($0)_task_id" } + attributes.map(\.name)
    }
}

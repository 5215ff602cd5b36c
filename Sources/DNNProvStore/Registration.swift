import DNNProvModel
import Foundation

/// Registers a dataflow or extends it in place: new transformations, sets, attributes and
/// dependencies are added (tables get new columns); nothing stored is removed or rewritten.
struct Registration {
    let db: any SQLDatabase
    let state: WriterState

    func register(_ raw: DataflowSpec) throws -> RegistrationResult {
        let dfTag = try Identifier.normalizeDataflow(raw.tag)
        let known = Set(state.catalog.dataflows[dfTag]?.transformations.keys.map { $0 } ?? [])
        let spec = try raw.normalized(knownTransformations: known)
        var changed = false
        let now = Timestamp.now()

        var df: DataflowEntry
        if let existing = state.catalog.dataflows[dfTag] {
            df = existing
        } else {
            let id = try db.insertReturningID(sql: "INSERT INTO dataflow(tag, version, created_at) VALUES (?, 0, ?)", arguments: [dfTag, now])
            df = DataflowEntry(id: id, tag: dfTag, version: 0)
            changed = true
        }

        // Transformations and their programs.
        for t in spec.transformations where df.transformations[t.tag] == nil {
            let id = try db.insertReturningID(sql: "INSERT INTO data_transformation(df_id, tag) VALUES (?, ?)", arguments: [df.id, t.tag])
            df.transformations[t.tag] = TransformationEntry(id: id, tag: t.tag)
            df.transformationOrder.append(t.tag)
            changed = true
        }
        for t in spec.transformations {
            let dtID = df.transformations[t.tag]!.id
            for p in t.programs {
                try db.execute(sql: "INSERT INTO program(df_id, name, path) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", arguments: [df.id, p.name, p.path])
                guard let pid = try Int64.fetchOne(db, sql: "SELECT id FROM program WHERE df_id = ? AND name = ? AND path = ?",
                                                   arguments: [df.id, p.name, p.path]) else { continue }
                let used = try db.insertIfAbsent(sql: "INSERT INTO use_program(dt_id, program_id) VALUES (?, ?)", arguments: [dtID, pid])
                changed = changed || used
            }
        }

        // Sets: first those defined here (outputs, so that inputs can find their producer), then those consumed from another
        // transformation (their own attribute list only matters if the producer gave none).
        let outputs = spec.transformations.flatMap { t in t.sets.filter { $0.role == .output && $0.dependency == nil }.map { (t.tag, $0) } }
        let inputs = spec.transformations.flatMap { t in t.sets.filter { $0.role == .input && $0.dependency == nil }.map { (t.tag, $0) } }
        let consuming = spec.transformations.flatMap { t in t.sets.filter { $0.dependency != nil }.map { (t.tag, $0) } }
        // Sets whose columns (or their order: producers' task columns come first) changed.
        var reshaped: Set<String> = []
        for (ttag, s) in outputs + inputs + consuming {
            // A set's rows are added by the transformation that produces it (or, for an input
            // nobody produces, by the first one that takes it).
            var setChanged = try ensureSet(s, owner: s.dependency ?? ttag, in: &df)
            setChanged = try ensureTaskColumn(set: s.tag, transformation: ttag, in: &df) || setChanged
            var producer: String?
            var consumer: String?
            switch s.role {
            case .output:
                producer = ttag
            case .input:
                consumer = ttag
                // An input produced by another transformation is a dependency even if unnamed.
                producer = s.dependency ?? df.sets[s.tag]!.producers.first(where: { $0 != ttag })
            }
            if let p = producer, p != ttag { setChanged = try ensureTaskColumn(set: s.tag, transformation: p, in: &df) || setChanged }
            setChanged = try ensureEdge(set: s.tag, producer: producer, consumer: consumer, in: &df) || setChanged
            if setChanged { reshaped.insert(s.tag) }
            changed = changed || setChanged
        }
        // Only those: a specification posted again unchanged (DfAnalyzer clients do, every run)
        // must not take locks on views that queries are reading.
        for tag in reshaped.sorted() {
            try db.dialect.setChanged(db, set: df.sets[tag]!, dataflow: df.tag)
        }

        if changed {
            df.version += 1
            try db.execute(sql: "UPDATE dataflow SET version = ? WHERE id = ?", arguments: [df.version, df.id])
            let json = try String(decoding: JSONEncoder.sorted.encode(df.specification), as: UTF8.self)
            try db.execute(
                sql: "INSERT INTO dataflow_version(df_id, version, spec, created_at) VALUES (?, ?, ?, ?)",
                arguments: [df.id, df.version, json, now])
        }
        state.catalog.dataflows[dfTag] = df
        return RegistrationResult(id: df.id, tag: dfTag, version: df.version, changed: changed)
    }

    /// Creates the set's table, or adds the attributes it lacks. Returns whether it changed.
    /// The table's layout is the dialect's (`SQLDialect.createSetTable`).
    private func ensureSet(_ s: SetSpec, owner: String, in df: inout DataflowEntry) throws -> Bool {
        let known = df.sets[s.tag].map { e in Set(e.attributes.map(\.name)) } ?? []
        let total = known.count + s.attributes.filter { !known.contains($0.name) }.count
        guard total <= db.dialect.maxAttributes else {
            throw ProvError.unprocessable("set '\(s.tag)' would have \(total) attributes; a set holds at most \(db.dialect.maxAttributes)")
        }
        guard var entry = df.sets[s.tag] else {
            let table = try uniqueTableName(db.dialect.physicalTable(dataflow: df.tag, set: s.tag))
            let id = try db.insertReturningID(sql: "INSERT INTO data_set(df_id, tag, table_name) VALUES (?, ?, ?)", arguments: [df.id, s.tag, table])
            var entry = SetEntry(id: id, tag: s.tag, table: table)
            try db.dialect.createSetTable(db, table: table, ownerColumn: "\(owner)_task_id", attributes: s.attributes)
            entry.taskColumns = [owner]
            for (i, a) in s.attributes.enumerated() {
                try db.execute(sql: "INSERT INTO attribute(ds_id, name, type, position) VALUES (?, ?, ?, ?)",
                               arguments: [entry.id, a.name, a.type.rawValue, i])
            }
            entry.attributes = s.attributes
            df.sets[s.tag] = entry
            df.setOrder.append(s.tag)
            return true
        }
        var changed = false
        for a in s.attributes {
            if let old = entry.attributes.first(where: { $0.name == a.name }) {
                guard old.type.isNumeric == a.type.isNumeric else {
                    throw ProvError.conflict("attribute '\(a.name)' of set '\(s.tag)' is \(old.type); it cannot become \(a.type)")
                }
                continue
            }
            try db.dialect.addColumn(db, table: entry.table, column: a.name, type: a.type)
            try db.execute(sql: "INSERT INTO attribute(ds_id, name, type, position) VALUES (?, ?, ?, ?)",
                           arguments: [entry.id, a.name, a.type.rawValue, entry.attributes.count])
            entry.attributes.append(a)
            changed = true
        }
        df.sets[s.tag] = entry
        return changed
    }

    /// The physical name, or a numbered variant when another dataflow's set already has it
    /// (dataflow `a__ds_b` with set `c` and dataflow `a` with set `b__ds_c` meet at `a__ds_b__ds_c`).
    /// The name is kept in `data_set.table_name`; queries reach tables through their tags.
    private func uniqueTableName(_ base: String) throws -> String {
        var name = base
        var n = 1
        while try db.dialect.tableExists(db, name) {
            n += 1
            name = "\(base)__\(n)"
        }
        return name
    }

    /// Adds `<transformation>_task_id` to the set's table when missing.
    private func ensureTaskColumn(set: String, transformation: String, in df: inout DataflowEntry) throws -> Bool {
        guard var entry = df.sets[set], !entry.taskColumns.contains(transformation) else { return false }
        let column = "\(transformation)_task_id"
        try db.dialect.addColumn(db, table: entry.table, column: column, type: nil)
        entry.taskColumns.append(transformation)
        df.sets[set] = entry
        return true
    }

    private func ensureEdge(set: String, producer: String?, consumer: String?, in df: inout DataflowEntry) throws -> Bool {
        let dsID = df.sets[set]!.id
        let prev = producer.flatMap { df.transformations[$0]?.id }
        let next = consumer.flatMap { df.transformations[$0]?.id }
        let exists = try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM data_dependency WHERE ds_id = ? AND previous_dt_id IS NOT DISTINCT FROM ?
                             AND next_dt_id IS NOT DISTINCT FROM ?)
            """, arguments: [dsID, prev, next]) ?? false
        df.addEdge(set: set, producer: producer, consumer: consumer)
        guard !exists else { return false }
        // A consumed set's edge replaces the "input with no producer" edge it may have had.
        if let next, prev != nil {
            try db.execute(sql: "DELETE FROM data_dependency WHERE ds_id = ? AND previous_dt_id IS NULL AND next_dt_id = ?", arguments: [dsID, next])
        }
        try db.execute(sql: "INSERT INTO data_dependency(previous_dt_id, next_dt_id, ds_id) VALUES (?, ?, ?)", arguments: [prev, next, dsID])
        return true
    }
}

extension DataflowEntry {
    /// The merged specification, as it stands now.
    var specification: DataflowSpec {
        DataflowSpec(tag: tag, transformations: transformationOrder.compactMap { tag in
            guard let t = transformations[tag] else { return nil }
            let outs = t.outputs.compactMap { sets[$0] }.map { SetSpec(tag: $0.tag, role: .output, attributes: $0.attributes) }
            let ins = t.inputs.compactMap { sets[$0] }.map {
                SetSpec(tag: $0.tag, role: .input, attributes: t.inputDependencies[$0.tag] == nil ? $0.attributes : [],
                        dependency: t.inputDependencies[$0.tag])
            }
            return TransformationSpec(tag: tag, sets: ins + outs)
        })
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}

import DNNProvModel
import Foundation

/// Copies a whole store into another, between any two backends (SQLite or PostgreSQL on either
/// side): the catalog with its ids, every set's table recreated in the target's layout, the
/// global tables, then every set's rows; then the live event number and, on PostgreSQL, the
/// identity sequences.
///
/// Resumable: every chunk is one transaction of the target's group commit that also records,
/// in `migration_progress`, how many rows of the table are copied. Rows are read in key order,
/// so after a crash the same migration starts each table where its last commit left it. Inserts
/// say `ON CONFLICT DO NOTHING` all the same, so a chunk seen twice can never double a row.
///
/// The source is read in chunks through `read` (each a consistent snapshot): it must not be
/// written meanwhile (stop the servers on it first).
package struct StoreMigration: Sendable {
    /// The target's bookkeeping table (internal: no user query reads it).
    package static let progressTable = "migration_progress"

    /// The catalog tables, parents before children (foreign keys), with their keys. They are
    /// copied in one transaction together with the creation of the sets' tables.
    static let catalogTables: [(name: String, keys: [String])] = [
        ("dataflow", ["id"]), ("dataflow_version", ["id"]), ("data_transformation", ["id"]), ("program", ["id"]),
        ("use_program", ["dt_id", "program_id"]), ("data_set", ["id"]), ("attribute", ["id"]), ("data_dependency", ["id"]),
    ]

    /// The other global tables, parents before children, copied in chunks.
    static let globalTables: [(name: String, keys: [String])] = [
        ("dataflow_execution", ["id"]), ("task", ["id"]), ("task_dependency", ["task_id", "previous_task_id"]),
        ("file", ["id"]), ("performance", ["id"]), ("idempotency_key", ["df_id", "key"]), ("ingest_key", ["key"]),
        ("refused_row", ["id"]), ("dfa_sent", ["task_id", "set_tag"]), ("run_summary", ["exec_id"]),
        ("saved_chart", ["id"]), ("api_token", ["id"]),
    ]

    let source: ProvStore
    let target: ProvStore
    let chunkRows: Int
    let progress: @Sendable (MigrationProgress) -> Void

    /// `chunkRows`: rows per transaction in the target (fewer for tables of many columns).
    /// `progress` is called after every chunk, on the migration's task.
    package init(from source: ProvStore, to target: ProvStore, chunkRows: Int = 5_000,
                 progress: @escaping @Sendable (MigrationProgress) -> Void = { _ in }) {
        self.source = source
        self.target = target
        self.chunkRows = max(1, chunkRows)
        self.progress = progress
    }

    /// How `migration_progress` names the source: a SQLite file by its absolute path (the same
    /// file given relatively the second time is still the same migration), a URL as given.
    package var sourceKey: String {
        source.backend == "sqlite" ? URL(fileURLWithPath: source.location).standardizedFileURL.resolvingSymlinksInPath().path
            : source.location
    }

    private var targetKey: String {
        target.backend == "sqlite" ? URL(fileURLWithPath: target.location).standardizedFileURL.resolvingSymlinksInPath().path
            : target.location
    }

    /// Runs (or resumes) the migration.
    package func run() async throws -> MigrationSummary {
        let started = Date()
        guard source.backend != target.backend || sourceKey != targetKey else { throw MigrationError.sameDatabase }
        let checkpoints = try await prepareTarget()
        let sourceEngine = source.storageEngine, targetEngine = target.storageEngine

        // What the source holds: the global tables present, the sets' layouts, row counts.
        let catalogNames = Self.catalogTables, globalNames = Self.globalTables
        let (globals, layouts, lastSeq) = try await sourceEngine.read { db -> ([MigrationTable], [MigrationSetLayout], Int64) in
            var tables: [MigrationTable] = []
            for (name, keys) in catalogNames + globalNames {
                var t = MigrationTable(name: name, sourceTable: name, targetTable: name, sourceColumns: [], targetColumns: [], keys: keys)
                t.present = try db.dialect.tableExists(db, name)
                if t.present {
                    t.sourceColumns = try db.dialect.columns(db, table: name)
                    t.total = try Int64.fetchOne(db, sql: "SELECT count(*) FROM \(db.dialect.tableSQL(name))") ?? 0
                }
                tables.append(t)
            }
            let layouts = try Self.setLayouts(db)
            // The live stream's numbers must go on growing past any the source handed out.
            var seq = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM run_summary") ?? 0
            // PostgreSQL keeps it in `store_state`, SQLite in `live_seq`.
            for table in ["store_state", "live_seq"] where try db.dialect.tableExists(db, table) {
                seq = max(seq, try Int64.fetchOne(db, sql: "SELECT seq FROM \(table) WHERE id = 1") ?? 0)
            }
            return (tables, layouts, seq)
        }
        // Columns both sides have (a table may have gained columns in a later version).
        let targetColumns = try await targetEngine.read { db -> [String: [String]] in
            var columns: [String: [String]] = [:]
            for (name, _) in catalogNames + globalNames { columns[name] = try db.dialect.columns(db, table: name) }
            return columns
        }
        var tables = globals.map { t -> MigrationTable in
            var t = t
            let theirs = targetColumns[t.name] ?? []
            var source: [String] = [], target: [String] = []
            for c in t.sourceColumns {
                guard let match = theirs.first(where: { $0.lowercased() == c.lowercased() }) else { continue }
                source.append(c)
                target.append(match)
            }
            t.sourceColumns = source
            t.targetColumns = target
            // A table the target lacks (a newer source) cannot be copied column by column.
            t.present = t.present && !target.isEmpty
            return t
        }

        var summary = MigrationSummary(tables: 0, resumedTables: 0, rows: 0, copiedThisRun: 0,
                                       dataflows: 0, seconds: 0)
        let catalogCount = Self.catalogTables.count
        var overall: (copied: Int64, total: Int64) = (0, 0)

        // The catalog first (once): it gives the target's table of each set.
        let targetNames: [Int64: String]
        let catalogDone = tables.prefix(catalogCount).allSatisfy { !$0.present || checkpoints[$0.name]?.done == true }
        if catalogDone {
            targetNames = try await targetEngine.read { db in
                var names: [Int64: String] = [:]
                for row in try db.fetchAll(sql: "SELECT id, table_name FROM data_set") { names[row[0]] = row[1] }
                return names
            }
        } else {
            targetNames = try await copyCatalog(tables: Array(tables.prefix(catalogCount)), layouts: layouts)
        }
        var setTables: [MigrationTable] = []
        for layout in layouts {
            guard let targetTable = targetNames[layout.id], let owner = layout.ownerColumn else { continue }
            var t = MigrationTable(name: layout.displayName, sourceTable: layout.sourceTable, targetTable: targetTable,
                                   sourceColumns: layout.columns, targetColumns: layout.columns, keys: [owner, "id"])
            t.numericColumns = layout.columns.indices.filter { layout.attributeTypes[layout.columns[$0].lowercased()]?.isNumeric == true }
            setTables.append(t)
        }
        let setTotals = try await sourceEngine.read { [setTables] db in
            try setTables.map { try Int64.fetchOne(db, sql: "SELECT count(*) FROM \(db.dialect.tableSQL($0.sourceTable))") ?? 0 }
        }
        for i in setTables.indices { setTables[i].total = setTotals[i] }
        tables += setTables
        overall.total = tables.reduce(0) { $0 + $1.total }
        // The catalog is copied by now (by this run or an earlier one); the rest as checkpointed.
        let catalogRows = tables.prefix(catalogCount).reduce(0) { $0 + $1.total }
        overall.copied = catalogRows + tables.dropFirst(catalogCount).reduce(0) { sum, t in
            sum + (checkpoints[t.name]?.done == true ? t.total : checkpoints[t.name]?.copied ?? 0)
        }
        if !catalogDone { summary.copiedThisRun += catalogRows }
        summary.dataflows = Int(tables.first { $0.name == "dataflow" }?.total ?? 0)
        for (i, t) in tables.enumerated() {
            summary.tables += 1
            summary.rows += t.total
            if i < catalogCount {
                if catalogDone { summary.resumedTables += 1 }
                report(t, copied: t.total, thisRun: catalogDone ? 0 : t.total, seconds: 0, done: true, overall: overall)
                continue
            }
            if checkpoints[t.name]?.done == true || !t.present {
                summary.resumedTables += checkpoints[t.name]?.done == true ? 1 : 0
                report(t, copied: t.total, thisRun: 0, seconds: 0, done: true, overall: overall)
                continue
            }
            let copied = try await copy(t, from: checkpoints[t.name]?.copied ?? 0, overall: &overall)
            summary.copiedThisRun += copied
        }

        try await finish(lastSeq: lastSeq)
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    private func report(_ t: MigrationTable, copied: Int64, thisRun: Int64, seconds: Double, done: Bool, overall: (copied: Int64, total: Int64)) {
        progress(MigrationProgress(table: t.name, copied: copied, total: t.total, copiedThisRun: thisRun, seconds: seconds,
                                   done: done, overallCopied: overall.copied, overallTotal: overall.total))
    }

    // MARK: The target

    /// Creates `migration_progress` when needed and returns this source's checkpoints. A target
    /// with provenance but no checkpoints of this source is refused: its ids would clash.
    private func prepareTarget() async throws -> [String: MigrationCheckpoint] {
        let key = sourceKey
        let table = Self.progressTable
        return try await target.storageEngine.write { db, _ in
            var checkpoints: [String: MigrationCheckpoint] = [:]
            let exists = try db.dialect.tableExists(db, table)
            if exists {
                for row in try db.fetchAll(sql: "SELECT tbl, copied, done FROM \(table) WHERE source = ?", arguments: [key]) {
                    checkpoints[row[0]] = MigrationCheckpoint(copied: row[1], done: (row[2] as Int64) != 0)
                }
            }
            if checkpoints.isEmpty {
                let holds = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM dataflow) OR EXISTS (SELECT 1 FROM api_token)") ?? false
                if holds { throw MigrationError.targetNotEmpty }
            }
            if !exists {
                // Portable DDL: both dialects read it as is.
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS \(table) (source TEXT NOT NULL, tbl TEXT NOT NULL, copied BIGINT NOT NULL,
                        done INTEGER NOT NULL, PRIMARY KEY (source, tbl))
                    """)
            }
            return checkpoints
        }
    }

    /// Copies the catalog tables and creates every set's table in the target's layout, in one
    /// transaction: the catalog and the tables it names appear together or not at all. Returns
    /// the target's table of each set (by `data_set.id`).
    private func copyCatalog(tables: [MigrationTable], layouts: [MigrationSetLayout]) async throws -> [Int64: String] {
        let contents = try await source.storageEngine.read { db -> [[[SQLValue]]] in
            try tables.map { t in
                guard t.present, !t.sourceColumns.isEmpty else { return [] }
                return try db.fetchAll(sql: Self.selectSQL(t, dialect: db.dialect, limit: nil, afterKey: false, offset: 0)).map(\.values)
            }
        }
        let key = sourceKey
        return try await target.storageEngine.write { db, _ in
            let dialect = db.dialect
            // The target's physical names, made unique as registration makes them.
            var names: [Int64: String] = [:]
            var used: Set<String> = []
            for layout in layouts {
                let base = dialect.physicalTable(dataflow: layout.dataflow, set: layout.tag)
                var name = base
                var n = 1
                while try used.contains(name.lowercased()) || dialect.tableExists(db, name) {
                    n += 1
                    name = "\(base)__\(n)"
                }
                used.insert(name.lowercased())
                names[layout.id] = name
            }
            for (t, rows) in zip(tables, contents) where t.present {
                var rows = rows
                if t.name == "data_set", let idColumn = t.sourceColumns.firstIndex(of: "id"),
                   let tableColumn = t.sourceColumns.firstIndex(where: { $0.lowercased() == "table_name" }) {
                    for i in rows.indices {
                        if let id = Int64.fromSQL(rows[i][idColumn]), let name = names[id] { rows[i][tableColumn] = .text(name) }
                    }
                }
                try Self.insert(db, table: t.targetTable, columns: t.targetColumns, rows: rows[...])
                try Self.checkpoint(db, source: key, table: t.name, copied: Int64(rows.count), done: true)
            }
            for layout in layouts {
                guard let table = names[layout.id], let owner = layout.ownerColumn else { continue }
                try dialect.createSetTable(db, table: table, ownerColumn: owner, attributes: [])
                for column in layout.columns where column != owner && column.lowercased() != "id" {
                    try dialect.addColumn(db, table: table, column: column, type: layout.attributeTypes[column.lowercased()])
                }
            }
            // The views (PostgreSQL) need the sets as the catalog now holds them.
            let catalog = try Catalog.load(db)
            for layout in layouts {
                guard let df = catalog.dataflows[layout.dataflow], let set = df.sets[layout.tag] else { continue }
                try dialect.setChanged(db, set: set, dataflow: df.tag)
            }
            return names
        }
    }

    /// Copies one table's rows from position `start` (rows already copied) in chunks; returns
    /// the rows this run copied. The next chunk is read while the target commits this one.
    private func copy(_ t: MigrationTable, from start: Int64, overall: inout (copied: Int64, total: Int64)) async throws -> Int64 {
        let began = Date()
        let source = self.source.storageEngine, target = self.target.storageEngine
        // Wide tables get fewer rows per chunk: a chunk's size is about values, not rows.
        let limit = max(100, min(chunkRows, 500_000 / max(1, t.sourceColumns.count)))
        let keyIndexes = t.keys.compactMap { k in t.sourceColumns.firstIndex { $0.lowercased() == k.lowercased() } }
        guard keyIndexes.count == t.keys.count else {
            throw ProvStoreError.storage("table \(t.sourceTable) lacks its key columns \(t.keys)")
        }
        let sourceKey = self.sourceKey
        let numericColumns = t.numericColumns
        let targetDialect = target.dialect
        var copied = start
        var thisRun: Int64 = 0
        // The first chunk of a resumed table is found by position, the others after the last key.
        func read(after key: [SQLValue]?) -> Task<[[SQLValue]], any Error> {
            Task {
                try await source.read { db in
                    let sql = Self.selectSQL(t, dialect: db.dialect, limit: limit, afterKey: key != nil, offset: key == nil ? start : 0)
                    return try db.fetchAll(sql: sql, arguments: SQLArguments(key ?? [])).map(\.values)
                }
            }
        }
        var pending: Task<[[SQLValue]], any Error>? = read(after: nil)
        defer { pending?.cancel() }
        while let reading = pending {
            var rows = try await reading.value
            let done = rows.count < limit
            pending = done ? nil : read(after: keyIndexes.map { rows[rows.count - 1][$0] })
            if !numericColumns.isEmpty {
                for i in rows.indices {
                    for c in numericColumns { rows[i][c] = Self.numeric(rows[i][c], dialect: targetDialect) }
                }
            }
            let total = copied + Int64(rows.count)
            let batch = rows
            try await target.write { db, _ in
                try Self.insert(db, table: t.targetTable, columns: t.targetColumns, rows: batch[...])
                try Self.checkpoint(db, source: sourceKey, table: t.name, copied: total, done: done)
            }
            copied = total
            thisRun += Int64(rows.count)
            overall.copied += Int64(rows.count)
            report(t, copied: copied, thisRun: thisRun, seconds: Date().timeIntervalSince(began), done: done, overall: overall)
        }
        return thisRun
    }

    /// Carries the live event number over, advances PostgreSQL's identity sequences past the
    /// copied ids, and makes the target's writer start from what is now stored.
    private func finish(lastSeq: Int64) async throws {
        let isPostgres = target.backend == "postgresql"
        let identityTables = (Self.catalogTables + Self.globalTables).filter { $0.keys == ["id"] }.map(\.name)
        try await target.storageEngine.write { db, state in
            if isPostgres {
                for table in identityTables {
                    try db.execute(sql: """
                        SELECT setval(pg_get_serial_sequence('\(table)', 'id'), coalesce((SELECT max(id) FROM \(table)), 0) + 1, false)
                        """)
                }
                // Statistics for the planner now, not when autovacuum comes by: the seeds'
                // queries right after a migration would otherwise be planned for empty tables.
                try db.execute(sql: "ANALYZE")
            }
            state.forgetCaches()
            state.catalog = try Catalog.load(db)
            // Numbers are never handed out twice: the target goes on after the source's last.
            state.seq = max(state.seq, lastSeq)
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM ingest_key)") ?? false { state.hasLegacyKeys = true }
        }
    }

    // MARK: SQL

    /// The sets of the source with their tables' columns and attribute types, by id.
    static func setLayouts(_ db: any SQLDatabase) throws -> [MigrationSetLayout] {
        var dataflows: [Int64: String] = [:]
        for row in try db.fetchAll(sql: "SELECT id, tag FROM dataflow") { dataflows[row[0]] = row[1] }
        var types: [Int64: [String: AttributeType]] = [:]
        for row in try db.fetchAll(sql: "SELECT ds_id, name, type FROM attribute") {
            types[row[0], default: [:]][(row[1] as String).lowercased()] = AttributeType(rawValue: row[2])
        }
        var layouts: [MigrationSetLayout] = []
        for row in try db.fetchAll(sql: "SELECT id, df_id, tag, table_name FROM data_set ORDER BY id") {
            let id: Int64 = row[0]
            guard let dataflow = dataflows[row[1]] else { continue }
            let table: String = row[3]
            guard try db.dialect.tableExists(db, table) else { continue }
            layouts.append(MigrationSetLayout(id: id, dataflow: dataflow, tag: row[2], sourceTable: table,
                                              columns: try db.dialect.columns(db, table: table), attributeTypes: types[id] ?? [:]))
        }
        return layouts
    }

    /// `SELECT` of a chunk in key order: after a key (keyset), or from a position.
    static func selectSQL(_ t: MigrationTable, dialect: any SQLDialect, limit: Int?, afterKey: Bool, offset: Int64) -> String {
        let keys = t.keys.map(\.quotedIdentifier)
        var sql = "SELECT \(t.sourceColumns.map(\.quotedIdentifier).joined(separator: ", ")) FROM \(dialect.tableSQL(t.sourceTable))"
        if afterKey {
            sql += keys.count == 1 ? " WHERE \(keys[0]) > ?"
                : " WHERE (\(keys.joined(separator: ", "))) > (\(Array(repeating: "?", count: keys.count).joined(separator: ", ")))"
        }
        sql += " ORDER BY \(keys.joined(separator: ", "))"
        if let limit { sql += " LIMIT \(limit)" }
        if offset > 0 { sql += " OFFSET \(offset)" }
        return sql
    }

    /// Multi-row `INSERT ... ON CONFLICT DO NOTHING`, within both backends' limits on bound values.
    static func insert(_ db: any SQLDatabase, table: String, columns: [String], rows: ArraySlice<[SQLValue]>) throws {
        guard !rows.isEmpty, !columns.isEmpty else { return }
        let perStatement = max(1, min(500, 30_000 / columns.count))
        let head = "INSERT INTO \(db.dialect.tableSQL(table)) (\(columns.map(\.quotedIdentifier).joined(separator: ", "))) VALUES "
        let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        var start = rows.startIndex
        while start < rows.endIndex {
            let end = min(start + perStatement, rows.endIndex)
            let sql = head + Array(repeating: tuple, count: end - start).joined(separator: ", ") + " ON CONFLICT DO NOTHING"
            var arguments: [SQLValue] = []
            arguments.reserveCapacity((end - start) * columns.count)
            for row in rows[start..<end] { arguments += row }
            try db.execute(sql, arguments)
            start = end
        }
    }

    /// Records in the target, in the chunk's transaction, how far the table is copied.
    static func checkpoint(_ db: any SQLDatabase, source: String, table: String, copied: Int64, done: Bool) throws {
        try db.execute(sql: """
            INSERT INTO \(progressTable) (source, tbl, copied, done) VALUES (?, ?, ?, ?)
            ON CONFLICT (source, tbl) DO UPDATE SET copied = excluded.copied, done = excluded.done
            """, arguments: [source, table, copied, done ? 1 : 0])
    }

    /// A NUMERIC value as the target stores it: SQLite keeps NaN as the text 'NaN', PostgreSQL
    /// as a double.
    static func numeric(_ value: SQLValue, dialect: any SQLDialect) -> SQLValue {
        switch value {
        case .real(let d): return dialect.numeric(d)
        case .text(let s):
            if let d = Double(s) { return dialect.numeric(d) }
            return s.lowercased() == "nan" ? dialect.numeric(.nan) : value
        default: return value
        }
    }
}

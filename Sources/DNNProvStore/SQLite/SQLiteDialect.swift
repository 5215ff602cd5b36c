import DNNProvModel

/// SQLite's dataset tables: one namespace, `<dataflow>__ds_<set>` tables clustered by owner task
/// (`WITHOUT ROWID`); queries see them as `ds_<set>` through per-query views (`ReadOnlyQuery`).
struct SQLiteDialect: SQLDialect {
    func physicalTable(dataflow: String, set: String) -> String {
        Identifier.sqlSafe("\(dataflow)__ds_\(set)")
    }

    func tableSQL(_ table: String) -> String { table.quotedIdentifier }

    func columns(_ db: any SQLDatabase, table: String) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table])
    }

    func tableExists(_ db: any SQLDatabase, _ table: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE lower(name) = lower(?))", arguments: [table]) ?? false
    }

    /// Clustered by the owner's task column: `PRIMARY KEY (<owner>_task_id, id)`, WITHOUT ROWID.
    /// A run's rows are then stored together, so the seeds' per-run questions read one range and
    /// their `GROUP BY <transformation>_task_id` over all runs is one ordered scan instead of a
    /// million index lookups. `id` (unique, increasing) keeps the order rows arrived in.
    func createSetTable(_ db: any SQLDatabase, table: String, ownerColumn: String, attributes: [AttributeSpec]) throws {
        let owner = ownerColumn.quotedIdentifier
        let columns = ["\(owner) INTEGER NOT NULL", "id INTEGER NOT NULL"]
            + attributes.map { "\($0.name.quotedIdentifier) \(Self.sqlType($0.type))" }
            + ["PRIMARY KEY (\(owner), id)"]
        try db.execute(sql: "CREATE TABLE \(table.quotedIdentifier) (\(columns.joined(separator: ", "))) WITHOUT ROWID")
        try db.execute(sql: "CREATE UNIQUE INDEX \((table + "__id").quotedIdentifier) ON \(table.quotedIdentifier)(id)")
    }

    func addColumn(_ db: any SQLDatabase, table: String, column: String, type: AttributeType?) throws {
        try db.execute(sql: "ALTER TABLE \(table.quotedIdentifier) ADD COLUMN \(column.quotedIdentifier) \(type.map(Self.sqlType) ?? "INTEGER")")
    }

    /// Queries see sets through per-query views (`ReadOnlyQuery`): nothing to keep up to date.
    func setChanged(_ db: any SQLDatabase, set: SetEntry, dataflow: String) throws {}

    /// SQLite has no NaN (it would store NULL), so NaN is kept as the text 'NaN'; infinities are
    /// real doubles.
    func numeric(_ value: Double) -> SQLValue { value.isNaN ? .text("NaN") : .real(value) }

    func greatest(_ a: String, _ b: String) -> String { "max(\(a), \(b))" }

    /// SQLite tables hold at most 2,000 columns; task columns and `id` need some.
    var maxAttributes: Int { 1_900 }

    static func sqlType(_ t: AttributeType) -> String { t.isNumeric ? "REAL" : "TEXT" }
}

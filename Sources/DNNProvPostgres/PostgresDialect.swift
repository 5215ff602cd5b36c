import DNNProvModel
import DNNProvStore
import Foundation

/// PostgreSQL's dataset tables: the data in schema `dnnprov_data` (`<dataflow>__ds_<set>`, as in
/// SQLite), and a schema per dataflow (`df_<dataflow>`) holding a `ds_<set>` and a `<set>` view of
/// each, columns in the seeds' order, so the seeds' queries run verbatim once `search_path`
/// names the dataflow's schema. Readers (and scoped tokens' roles) are granted the dataflow
/// schemas only; the views reach the data with their owner's rights.
///
/// A physical table is written `schema.table` in `data_set.table_name`; both parts are
/// `Identifier.sqlSafe`, lower case, so the dot only ever separates them.
package struct PostgresDialect: SQLDialect {
    package init() {}

    /// The role BI tools and user queries read as (created by `PostgresSchema.migrate`).
    package static let readerRole = "dnnprov_reader"

    /// The schema of the dataset tables themselves.
    package static let dataSchema = "dnnprov_data"

    package func physicalTable(dataflow: String, set: String) -> String {
        "\(Self.dataSchema).\(Self.fit(Identifier.sqlSafe("\(dataflow)__ds_\(set)").lowercased()))"
    }

    /// PostgreSQL cuts names at 63 bytes, silently: two long names that share their first 63
    /// bytes would become one table. A longer name keeps its start and ends with a hash of the whole.
    static func fit(_ name: String) -> String {
        guard name.utf8.count > 63 else { return name }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: stable across runs and machines
        for b in name.utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(decoding: name.utf8.prefix(46), as: UTF8.self) + "_" + String(hash, radix: 16)
    }

    /// The schema of a dataflow's views: its tag, so that `alexnet.ds_otrainingmodel` names
    /// another dataflow's table as it does on SQLite; `df_<tag>` for the few tags PostgreSQL or
    /// dnnprov reserve (`public`, `dnnprov…`, `pg_…`). Always written quoted (`mnist.v2`).
    package func schemaName(dataflow: String) -> String {
        let tag = dataflow.lowercased()
        let reserved: Set<String> = ["public", "dnnprov", Self.dataSchema, "information_schema"]
        let taken = reserved.contains(tag) || tag.hasPrefix("pg_") || tag.hasPrefix("df_") || tag.hasPrefix("dnnprov")
        return Self.fit(taken ? "df_" + tag : tag)
    }

    package func tableSQL(_ table: String) -> String {
        let (schema, name) = Self.split(table)
        return schema.map { "\($0.quotedIdentifier).\(name.quotedIdentifier)" } ?? name.quotedIdentifier
    }

    /// `("df_x", "ds_y")` from `"df_x.ds_y"`; a name without a dot has no schema.
    package static func split(_ table: String) -> (schema: String?, name: String) {
        guard let dot = table.firstIndex(of: ".") else { return (nil, table) }
        return (String(table[..<dot]), String(table[table.index(after: dot)...]))
    }

    package func columns(_ db: any SQLDatabase, table: String) throws -> [String] {
        let (schema, name) = Self.split(table)
        return try String.fetchAll(db, sql: """
            SELECT column_name::text FROM information_schema.columns
            WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
            """, arguments: [schema ?? "dnnprov", name])
    }

    package func tableExists(_ db: any SQLDatabase, _ table: String) throws -> Bool {
        let (schema, name) = Self.split(table)
        return try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND lower(table_name) = lower(?))
            """, arguments: [schema ?? "dnnprov", name]) ?? false
    }

    /// Clustered as in SQLite by `PRIMARY KEY (<owner>, id)`: a run's rows are found by one
    /// index range; `id` (unique, increasing) keeps the order rows arrived in.
    package func createSetTable(_ db: any SQLDatabase, table: String, ownerColumn: String, attributes: [AttributeSpec]) throws {
        let owner = ownerColumn.quotedIdentifier
        let columns = ["\(owner) bigint NOT NULL", "id bigint NOT NULL"]
            + attributes.map { "\($0.name.quotedIdentifier) \(Self.sqlType($0.type))" }
            + ["PRIMARY KEY (\(owner), id)"]
        let (schema, name) = Self.split(table)
        if let schema { try db.execute(sql: "CREATE SCHEMA IF NOT EXISTS \(schema.quotedIdentifier)") }
        // IF NOT EXISTS: two servers extending the same dataflow at once both get here; the
        // second finds the table (the registration's own rows decide what else to do).
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS \(tableSQL(table)) (\(columns.joined(separator: ", ")))")
        try db.execute(sql: "CREATE UNIQUE INDEX IF NOT EXISTS \(Self.fit(name + "__id").quotedIdentifier) ON \(tableSQL(table)) (id)")
    }

    package func addColumn(_ db: any SQLDatabase, table: String, column: String, type: AttributeType?) throws {
        try db.execute(sql: "ALTER TABLE \(tableSQL(table)) ADD COLUMN IF NOT EXISTS \(column.quotedIdentifier) \(type.map(Self.sqlType) ?? "bigint")")
    }

    /// Refreshes the dataflow schema's `ds_<set>` and `<set>` views of the set's table, columns in
    /// the seeds' order (id, task columns, attributes). A column added in the middle (a task
    /// column) is a change `CREATE OR REPLACE VIEW` refuses: the view is then dropped and made
    /// again. Readers get USAGE and SELECT on the schema when the reader role exists.
    package func setChanged(_ db: any SQLDatabase, set: SetEntry, dataflow: String) throws {
        let schema = schemaName(dataflow: dataflow).quotedIdentifier
        let select = "SELECT \(set.viewColumns.map(\.quotedIdentifier).joined(separator: ", ")) FROM \(tableSQL(set.table))"
        func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
        var body = ""
        for name in Set(["ds_" + set.tag.lowercased(), set.tag.lowercased()]).sorted() {
            let view = "\(schema).\(name.quotedIdentifier)"
            body += """
                BEGIN
                    EXECUTE \(literal("CREATE OR REPLACE VIEW \(view) AS \(select)"));
                EXCEPTION WHEN invalid_table_definition OR feature_not_supported OR wrong_object_type OR duplicate_column THEN
                    EXECUTE \(literal("DROP VIEW IF EXISTS \(view)"));
                    EXECUTE \(literal("CREATE VIEW \(view) AS \(select)"));
                END;

                """
        }
        let grant = """
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(Self.readerRole)') THEN
                EXECUTE \(literal("GRANT USAGE ON SCHEMA \(schema) TO \(Self.readerRole)"));
                EXECUTE \(literal("GRANT SELECT ON ALL TABLES IN SCHEMA \(schema) TO \(Self.readerRole)"));
            END IF;
            """
        try db.execute(sql: "CREATE SCHEMA IF NOT EXISTS \(schema)")
        try db.execute(sql: "DO $dnnprov_view$ BEGIN \(body) \(grant) END $dnnprov_view$")
    }

    /// PostgreSQL stores NaN and the infinities in `double precision`.
    package func numeric(_ value: Double) -> SQLValue { .real(value) }

    package func greatest(_ a: String, _ b: String) -> String { "greatest(\(a), \(b))" }

    /// PostgreSQL tables hold at most 1,600 columns; task columns and `id` need some.
    package var maxAttributes: Int { 1_500 }

    package static func sqlType(_ t: AttributeType) -> String { t.isNumeric ? "double precision" : "text" }
}

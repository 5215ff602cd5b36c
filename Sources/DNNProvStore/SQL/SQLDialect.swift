import Foundation
import DNNProvModel

/// What the two backends write differently: the schema of dataset tables and where they live,
/// NUMERIC values that SQL cannot hold as numbers, and the few functions whose names differ.
/// The shared store code asks the dialect and never names a backend.
package protocol SQLDialect: Sendable {
    /// The physical table of a dataflow's set, as stored in `data_set.table_name`.
    func physicalTable(dataflow: String, set: String) -> String
    /// `table_name` as it is written in SQL (quoted; schema-qualified where the backend has schemas).
    func tableSQL(_ table: String) -> String
    /// The columns of a table, in their physical order.
    func columns(_ db: any SQLDatabase, table: String) throws -> [String]
    /// Whether the database already has a table of this name (another dataflow's, say).
    func tableExists(_ db: any SQLDatabase, _ table: String) throws -> Bool
    /// Creates a set's table: `<owner>_task_id`, `id` and the attributes, clustered by owner task.
    func createSetTable(_ db: any SQLDatabase, table: String, ownerColumn: String, attributes: [AttributeSpec]) throws
    /// Adds a column: an attribute (`type`), or a task column (`type` nil, an integer).
    func addColumn(_ db: any SQLDatabase, table: String, column: String, type: AttributeType?) throws
    /// Called once a set's table has its final columns for this registration (PostgreSQL
    /// refreshes the dataflow schema's `ds_<set>` and `<set>` views there).
    func setChanged(_ db: any SQLDatabase, set: SetEntry, dataflow: String) throws
    /// A NUMERIC value as stored (SQLite has no NaN: it would store null).
    func numeric(_ value: Double) -> SQLValue
    /// The larger of two values (`max(a, b)` in SQLite, `greatest(a, b)` in PostgreSQL).
    func greatest(_ a: String, _ b: String) -> String
    /// Most attributes a set may have (table column limits, less the task columns and `id`).
    var maxAttributes: Int { get }
}

extension SQLDialect {
    package func numericValue(_ v: Value) throws(ProvError) -> SQLValue {
        guard let d = try v.numeric() else { return .null }
        return numeric(d)
    }
}

extension String {
    /// `"name"`, with inner quotes doubled: the same in SQLite and PostgreSQL.
    package var quotedIdentifier: String { "\"" + replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

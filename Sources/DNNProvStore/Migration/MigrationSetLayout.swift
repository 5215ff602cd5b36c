import DNNProvModel

/// A set's table in the source, as the target must recreate it: the columns in their physical
/// order (owner task column first), and which of them are attributes of which type.
package struct MigrationSetLayout: Sendable {
    package var id: Int64
    package var dataflow: String
    package var tag: String
    package var sourceTable: String
    package var columns: [String]
    /// Attribute types by lower-cased column name; a column not here is a task column.
    package var attributeTypes: [String: AttributeType]

    /// The owner's task column: the first `_task_id` column (the table is clustered by it).
    package var ownerColumn: String? {
        columns.first { $0.lowercased().hasSuffix("_task_id") && attributeTypes[$0.lowercased()] == nil }
    }

    /// The name in `migration_progress` and in progress reports.
    package var displayName: String { "\(dataflow).\(tag)" }
}

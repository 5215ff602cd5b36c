import DNNProvModel

/// One table to copy: where it is on each side, its columns, its key (the order of chunks) and
/// what its values need on the way.
package struct MigrationTable: Sendable {
    /// The name in `migration_progress` and in progress reports: a global table's name, or
    /// `<dataflow>.<set>` for a set's rows (the physical names differ between backends).
    package var name: String
    /// The physical tables, as `data_set.table_name` (or a global table's name) spells them.
    package var sourceTable: String
    package var targetTable: String
    /// Columns both sides have, spelled as each side spells them (same order).
    package var sourceColumns: [String]
    package var targetColumns: [String]
    /// The primary key's columns (source spelling): rows are read in this order, so a count of
    /// rows copied is also a position to resume from.
    package var keys: [String]
    /// Positions in the columns of NUMERIC attributes: NaN is stored differently per backend.
    package var numericColumns: [Int] = []
    /// Rows in the source.
    package var total: Int64 = 0
    /// Whether the source has the table at all (a file from an older version may lack one).
    package var present = true
}

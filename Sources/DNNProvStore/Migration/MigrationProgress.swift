import Foundation

/// Where a migration stands, reported after every chunk committed in the target (and once when
/// a table is found already copied by an earlier, interrupted run).
package struct MigrationProgress: Sendable {
    /// The table as people read it: a global table's name, or `<dataflow>.<set>` for a set's rows.
    package var table: String
    /// Rows of this table in the target (those of earlier runs included).
    package var copied: Int64
    /// Rows of this table in the source.
    package var total: Int64
    /// Rows this run copied of this table, and the seconds it spent on them (for a rate).
    package var copiedThisRun: Int64
    package var seconds: Double
    /// Whether the table is complete.
    package var done: Bool
    /// All tables together.
    package var overallCopied: Int64
    package var overallTotal: Int64

    /// Rows per second this run, for this table.
    package var rate: Double { seconds > 0 ? Double(copiedThisRun) / seconds : 0 }
}

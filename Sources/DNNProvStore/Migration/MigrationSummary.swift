import Foundation

/// What a migration did, for the final summary.
package struct MigrationSummary: Sendable {
    /// Tables copied (global tables and sets' tables), of which `resumedTables` were already
    /// complete from an earlier run.
    package var tables: Int
    package var resumedTables: Int
    /// Rows in the source, and rows this run copied (less than `rows` when resuming).
    package var rows: Int64
    package var copiedThisRun: Int64
    package var dataflows: Int
    package var seconds: Double

    package var rate: Double { seconds > 0 ? Double(copiedThisRun) / seconds : 0 }
}

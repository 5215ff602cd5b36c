/// One table's row of `migration_progress` in the target: how many of its rows (in key order)
/// earlier runs committed, and whether it is complete.
package struct MigrationCheckpoint: Sendable {
    package var copied: Int64
    package var done: Bool
}

/// Why a migration refuses to start.
package enum MigrationError: Error, CustomStringConvertible {
    /// The target has dataflows or tokens that no run of this migration put there: copying ids
    /// over them would clash or mix two histories.
    case targetNotEmpty
    /// `--from` and `--to` name the same database.
    case sameDatabase

    package var description: String {
        switch self {
        case .targetNotEmpty: return "the target already holds provenance; migrate into an empty database"
        case .sameDatabase: return "the source and the target are the same database"
        }
    }
}

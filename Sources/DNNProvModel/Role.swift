/// What an API token may do. Roles are ordered: each includes the ones below it.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    /// List dataflows, read rows, run queries.
    case reader
    /// Also send provenance: register dataflows, send task events.
    case writer
    /// Also manage tokens.
    case admin

    private var rank: Int {
        switch self {
        case .reader: return 0
        case .writer: return 1
        case .admin: return 2
        }
    }

    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }

    /// Parses a role name, with a message listing the roles.
    public static func parse(_ raw: String) throws(ProvError) -> Role {
        guard let role = Role(rawValue: raw.trimmingWhitespace().lowercased()) else {
            throw .badRequest("unknown role '\(raw.clipped())'; expected reader, writer or admin")
        }
        return role
    }
}

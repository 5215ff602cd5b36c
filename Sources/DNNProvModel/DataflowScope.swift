/// Which dataflows a caller may see: all of them, or only those listed (a token scoped to some
/// dataflows). A caller outside the scope of a dataflow cannot learn its name, tables or rows.
public enum DataflowScope: Sendable, Equatable, Hashable {
    case all
    /// Normalised dataflow tags (lower case).
    case only(Set<String>)

    /// Whether a dataflow (its normalised tag) is visible.
    public func contains(_ tag: String) -> Bool {
        switch self {
        case .all: return true
        case .only(let tags): return tags.contains(tag)
        }
    }

    /// The listed tags, or nil for all.
    public var tags: Set<String>? {
        if case .only(let tags) = self { return tags }
        return nil
    }
}

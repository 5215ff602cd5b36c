import DNNProvModel

/// Who sent a request: the token's role and scope, or everyone when auth is off.
public struct Principal: Sendable, Equatable {
    /// The token's id; nil when auth is off.
    public var tokenID: Int64?
    public var role: Role
    public var scope: DataflowScope
    /// The principal came from the UI's session cookie: its unsafe requests need the CSRF header.
    public var viaCookie = false

    /// Auth is off: anyone who can connect may do anything.
    public static let local = Principal(tokenID: nil, role: .admin, scope: .all)

    /// Refuses a dataflow this principal may not see. A reader gets 404, as if it did not exist,
    /// so that a scoped token cannot learn other dataflows' names by probing.
    public func requireVisible(_ tag: String) throws(ProvError) {
        let normalized = (try? Identifier.normalizeDataflow(tag)) ?? tag
        guard scope.contains(normalized) else { throw .notFound("unknown dataflow '\(tag.clipped())'") }
    }

    /// Refuses a write to a dataflow outside the token's scope.
    public func requireWritable(_ tag: String) throws(ProvError) {
        let normalized = (try? Identifier.normalizeDataflow(tag)) ?? tag
        guard scope.contains(normalized) else { throw .forbidden("this token may not write to dataflow '\(tag.clipped())'") }
    }
}

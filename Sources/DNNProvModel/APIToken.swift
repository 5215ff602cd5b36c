/// An API token as listed: everything but its secret, which is shown once, at creation, and
/// stored only as a SHA-256 digest.
public struct APIToken: Sendable, Codable, Equatable {
    public var id: Int64
    public var name: String
    public var role: Role
    /// The dataflows it may reach; nil means all.
    public var dataflows: [String]?
    public var createdAt: String
    public var revokedAt: String?

    public init(id: Int64, name: String, role: Role, dataflows: [String]?, createdAt: String, revokedAt: String? = nil) {
        self.id = id
        self.name = name
        self.role = role
        self.dataflows = dataflows
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    /// The dataflows it may reach.
    public var scope: DataflowScope { dataflows.map { .only(Set($0)) } ?? .all }

    enum CodingKeys: String, CodingKey {
        case id, name, role, dataflows
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
    }
}

/// `POST /api/v1/tokens`: a token to create.
public struct TokenRequest: Sendable, Codable, Equatable {
    public var role: Role
    public var dataflows: [String]?
    public var name: String?

    public init(role: Role, dataflows: [String]? = nil, name: String? = nil) {
        self.role = role
        self.dataflows = dataflows
        self.name = name
    }
}

/// The answer to a token creation: the token and, this once, its secret.
public struct CreatedToken: Sendable, Codable, Equatable {
    public var token: APIToken
    public var secret: String

    public init(token: APIToken, secret: String) {
        self.token = token
        self.secret = secret
    }
}

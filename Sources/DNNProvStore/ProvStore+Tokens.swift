import Crypto
import DNNProvModel
import Foundation

extension ProvStore {
    /// Creates a token and returns it with its secret, which is not stored (only its SHA-256).
    public func createToken(_ request: TokenRequest) async throws -> CreatedToken {
        let dataflows = try request.dataflows.map { tags in try tags.map { try Identifier.normalizeDataflow($0) }.sorted() }
        let name = (request.name?.trimmingCharacters()).flatMap { $0.isEmpty ? nil : $0 } ?? "\(request.role.rawValue) token"
        guard name.utf8.count <= 200 else { throw ProvError.badRequest("a token name holds at most 200 bytes") }
        let secret = Self.newSecret()
        let digest = Self.digest(secret)
        let created = Timestamp.now()
        let scope = try dataflows.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let id: Int64 = try await write { db, _ in
            try db.insertReturningID(sql: "INSERT INTO api_token(name, digest, role, dataflows, created_at) VALUES (?, ?, ?, ?, ?)",
                                     arguments: [name, digest, request.role.rawValue, scope, created])
        }
        return CreatedToken(token: APIToken(id: id, name: name, role: request.role, dataflows: dataflows, createdAt: created), secret: secret)
    }

    /// Every token, revoked ones included, oldest first.
    public func tokens() async throws -> [APIToken] {
        try await read { db in try db.fetchAll(sql: "SELECT * FROM api_token ORDER BY id").map(Self.token) }
    }

    /// Revokes a token; it stops working at once on this server (and within the token cache's
    /// lifetime on others sharing the file).
    public func revokeToken(id: Int64) async throws -> APIToken {
        let now = Timestamp.now()
        let token: APIToken? = try await write { db, _ in
            try db.execute(sql: "UPDATE api_token SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", arguments: [now, id])
            return try db.fetchOne(sql: "SELECT * FROM api_token WHERE id = ?", arguments: [id]).map(Self.token)
        }
        guard let token else { throw ProvError.notFound("no token with id \(id)") }
        return token
    }

    /// The live (not revoked) token with this secret, or nil.
    public func token(secret: String) async throws -> APIToken? {
        let digest = Self.digest(secret)
        return try await read { db in
            try db.fetchOne(sql: "SELECT * FROM api_token WHERE digest = ? AND revoked_at IS NULL", arguments: [digest]).map(Self.token)
        }
    }

    /// Whether any live token exists (the server warns when tokens are required but none exist).
    public func hasTokens() async throws -> Bool {
        try await read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM api_token WHERE revoked_at IS NULL)") ?? false }
    }

    private static func token(_ row: SQLRow) -> APIToken {
        let scope: String? = row["dataflows"]
        return APIToken(
            id: row["id"], name: row["name"], role: Role(rawValue: row["role"]) ?? .reader,
            dataflows: scope.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) },
            createdAt: row["created_at"], revokedAt: row["revoked_at"])
    }

    /// 32 random bytes from the system's CSPRNG, base64url: `dnp_` + 43 characters.
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let b64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return "dnp_" + b64
    }

    /// Tokens are long random secrets, so a plain SHA-256 is enough (no password hashing).
    static func digest(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

import DNNProvModel

extension ServerClient {
    /// Creates a token (needs an admin token); the answer holds its secret, shown this once.
    public func createToken(_ request: TokenRequest) async throws -> CreatedToken {
        try await send("POST", "/api/v1/tokens", body: request)
    }

    /// Every token, revoked ones included (never their secrets).
    public func tokens() async throws -> [APIToken] {
        try await send("GET", "/api/v1/tokens", body: Optional<String>.none)
    }

    /// Revokes a token by id.
    public func revokeToken(id: Int64) async throws -> APIToken {
        try await send("DELETE", "/api/v1/tokens/\(id)", body: Optional<String>.none)
    }
}

import DNNProvModel
import Foundation
import HTTPTypes
import Hummingbird

/// Sets `context.principal` on the routes behind it. With auth off, everyone is `Principal.local`.
/// With auth on, the token comes from, in order: `Authorization: Bearer`, the `{token}` path
/// segment of the DfAnalyzer routes under `/t/{token}/` (old clients cannot send headers), the
/// `token` query parameter, or the UI's session cookie. A cookie-authenticated request that
/// changes something must carry `X-CSRF-Token` equal to the `dnnprov_csrf` cookie: another
/// site can make the browser send the cookie, but cannot read it to copy it into a header.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    static let sessionCookie = "dnnprov_session"
    static let csrfCookie = "dnnprov_csrf"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    let authenticator: Authenticator?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        guard let authenticator else {
            context.principal = .local
            return try await next(request, context)
        }
        guard let (secret, viaCookie) = Self.credentials(request, context) else {
            throw ProvError.unauthorized("a token is required: send 'Authorization: Bearer <token>' (see dnnprov token create)")
        }
        guard var principal = try await authenticator.principal(secret: secret) else {
            throw ProvError.unauthorized("the token is unknown or revoked")
        }
        if viaCookie {
            principal.viaCookie = true
            if ![.get, .head, .options].contains(request.method) {
                let sent = request.headers[Self.csrfHeader]
                guard let sent, let expected = request.cookies[Self.csrfCookie]?.value, !expected.isEmpty, sent == expected else {
                    throw ProvError.forbidden("missing or wrong X-CSRF-Token header for a request authenticated by cookie")
                }
            }
        }
        context.principal = principal
        return try await next(request, context)
    }

    static func credentials(_ request: Request, _ context: Context) -> (String, Bool)? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return (String(parts[1]).trimmingCharacters(in: .whitespaces), false) }
        }
        if let token = context.parameters.get("token"), !token.isEmpty { return (token, false) }
        if let token = request.uri.queryParameters.get("token"), !token.isEmpty { return (token, false) }
        if let cookie = request.cookies[sessionCookie]?.value, !cookie.isEmpty { return (cookie, true) }
        return nil
    }
}

/// Refuses principals below `role` (403), on the routes behind it.
struct RequireRoleMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let role: Role

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard principal.role >= role else {
            // No path in the message: under /t/<secret>/ it holds the token, and refusals are logged.
            throw ProvError.forbidden("this token is a \(principal.role.rawValue) token; this route needs a \(role.rawValue) token")
        }
        return try await next(request, context)
    }
}

import DNNProvModel
import DNNProvStore
import Hummingbird

/// `/api/v1/tokens`: create, list and revoke API tokens (admin).
struct TokenController {
    let store: ProvStore
    let authenticator: Authenticator?

    func addRoutes(to admins: RouterGroup<AppRequestContext>) {
        let tokens = admins.group("tokens")
        tokens.get { _, _ in try JSONBody.response(try await store.tokens()) }
        tokens.post { request, _ in
            let body = try await JSONBody.decode(TokenRequest.self, from: request, limit: 64 << 10)
            return try JSONBody.response(try await store.createToken(body), status: .created)
        }
        tokens.delete(":id") { _, context in
            guard let id = Int64(try context.parameters.require("id")) else { throw ProvError.notFound("no such token") }
            let token = try await store.revokeToken(id: id)
            authenticator?.invalidate()
            return try JSONBody.response(token)
        }
    }
}

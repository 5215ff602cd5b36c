import DNNProvModel
import DNNProvStore
import Hummingbird

/// `GET /health`: the server is up and its database answers. Public, so it says nothing about
/// what is stored or where.
struct HealthController {
    let store: ProvStore

    struct Health: Encodable {
        var status: String
        var database: String
        var version: String
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/health") { _, _ in
            _ = try await store.hasTokens()
            return try JSONBody.response(Health(status: "ok", database: store.backend, version: DNNProvVersion.current))
        }
    }
}

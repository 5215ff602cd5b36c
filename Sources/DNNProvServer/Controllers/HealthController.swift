import DNNProvStore
import Hummingbird

/// `GET /health`: the server is up and its database answers.
struct HealthController {
    let store: ProvStore

    struct Health: Encodable {
        var status: String
        var database: String
        var path: String
        var dataflows: Int
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/health") { _, _ in
            let n = try await store.dataflows().count
            return try JSONBody.response(Health(status: "ok", database: "sqlite", path: store.path, dataflows: n))
        }
    }
}

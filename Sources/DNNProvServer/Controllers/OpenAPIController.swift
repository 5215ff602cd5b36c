import Hummingbird
import NIOCore

/// `GET /openapi.json`: the OpenAPI 3.1 description of every route (public).
struct OpenAPIController {
    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
    }
}

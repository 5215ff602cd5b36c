import DNNProvStore
import Hummingbird

/// Admits the requests of the routes behind it through the shared `AdmissionGate`: the write
/// routes of `/api/v1` (refused with 429 when the queue is full) and of the DfAnalyzer protocol
/// (which wait instead). Placed after auth, so unauthenticated requests never take a place.
struct AdmissionMiddleware<Context: RequestContext>: RouterMiddleware {
    let gate: AdmissionGate
    var waitIfFull = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await gate.run(waitIfFull: waitIfFull) { try await next(request, context) }
    }
}

import DNNProvModel
import DNNProvStore
import Hummingbird

/// `POST /api/v1/batch`: many task events per request, stored all or nothing, answered after
/// the commit.
struct BatchController {
    let store: ProvStore
    let limits: Limits
    let reporter: IngestReporter?

    /// `writers`: the group of write routes (role and admission middleware on it).
    func addRoutes(to writers: RouterGroup<AppRequestContext>) {
        writers.post("batch") { request, context in
            let principal = try context.requirePrincipal()
            let events = try await JSONBody.decode(BatchRequest.self, from: request, limit: limits.maxBodyBytes).events
            try limits.check(events)
            // No event index: this is about the token, not the event, and clients keep such data.
            for e in events { try principal.requireWritable(e.dataflow) }
            let result = try await store.ingest(events, options: .strict)
            reporter?.record(result, dataflows: events.map(\.dataflow))
            return try JSONBody.response(result)
        }
    }
}

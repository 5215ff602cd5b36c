import DNNProvModel
import Foundation

extension ServerClient {
    /// `POST /api/v1/dataflows`: registers a dataflow, or extends it in place.
    /// Returns the dataflow's version after the registration.
    public func register(_ spec: DataflowSpec) async throws -> Int {
        struct Answer: Decodable { var version: Int }
        let answer: Answer = try await send("POST", "/api/v1/dataflows", body: spec)
        return answer.version
    }

    /// `POST /api/v1/batch`: stores task events, answered after the commit; events whose
    /// idempotency key is already stored with the same content are counted as duplicates.
    public func ingest(_ events: [TaskEvent]) async throws -> IngestResult {
        try await send("POST", "/api/v1/batch", body: BatchRequest(events: events))
    }
}

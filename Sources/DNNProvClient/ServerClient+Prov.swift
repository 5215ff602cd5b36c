import AsyncHTTPClient
import DNNProvModel
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

extension ServerClient {
    /// Streams `GET /api/v1/dataflows/{tag}/prov` chunk by chunk into `sink` (bounded memory).
    public func exportProv(dataflow: String, scope: ProvScope = .init(), format: ProvFormat,
                           to sink: (ByteBuffer) throws -> Void) async throws {
        var path = "/api/v1/dataflows/\(Self.escape(dataflow))/prov?format=\(format.rawValue)"
        if let e = scope.execution { path += "&execution=\(Self.escape(e))" }
        if let t = scope.task { path += "&task=\(t)" }
        let response = try await raw("GET", path, body: nil)
        for try await buffer in response.body { try sink(buffer) }
    }

    public func lineage(dataflow: String, set: String, id: Int64, direction: LineageDirection, depth: Int) async throws -> LineageAnswer {
        try await send("GET", "/api/v1/dataflows/\(Self.escape(dataflow))/lineage?set=\(Self.escape(set))&id=\(id)&direction=\(direction.rawValue)&depth=\(depth)",
                       body: Optional<String>.none)
    }

    /// `POST /api/v1/prov`: imports a PROV-JSON document.
    public func importProv(_ document: Data, dataflow: String? = nil) async throws -> ProvImportResult {
        let path = "/api/v1/prov" + (dataflow.map { "?dataflow=\(Self.escape($0))" } ?? "")
        let response = try await raw("POST", path, body: document)
        let data = Data(buffer: try await response.body.collect(upTo: 16 << 20))
        return try JSONDecoder().decode(ProvImportResult.self, from: data)
    }

    /// A request whose answer is read by the caller; an error status is thrown with its message.
    func raw(_ method: String, _ path: String, body: Data?) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .init(rawValue: method)
        if let tls { request.tlsConfiguration = try tls.get() }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(3600))
        } catch {
            throw ServerClientError.unreachable(url: ServerAccess.redact(baseURL), reason: ServerAccess.explain(error))
        }
        guard (200..<300).contains(response.status.code) else {
            let data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
            let message = (try? JSONDecoder().decode(ErrorAnswer.self, from: data).error) ?? String(decoding: data, as: UTF8.self)
            throw ServerClientError.refused(status: Int(response.status.code), message: message)
        }
        return response
    }
}

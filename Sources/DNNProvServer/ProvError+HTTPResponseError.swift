import DNNProvModel
import Foundation
import Hummingbird
import NIOCore

/// Every refusal is a `ProvError`; Hummingbird turns it into its answer:
/// `{"error": "...", "event": n}` with the status of its kind.
extension ProvError: HTTPResponseError {
    public var status: HTTPResponse.Status {
        switch kind {
        case .badRequest: return .badRequest
        case .notFound: return .notFound
        case .conflict: return .conflict
        case .unprocessable: return .unprocessableContent
        case .forbidden: return .forbidden
        case .tooLarge: return .contentTooLarge
        case .timeout: return .requestTimeout
        case .unauthorized: return .unauthorized
        case .tooManyRequests: return .tooManyRequests
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [:]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if kind == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"dnnprov\"" }
        return ErrorAnswer(error: message, event: eventIndex).response(status: status, headers: headers)
    }
}

extension ErrorAnswer {
    func response(status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        let data = (try? JSONEncoder().encode(self)) ?? Data(#"{"error":"error"}"#.utf8)
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

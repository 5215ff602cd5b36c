import DNNProvModel
import DNNProvStore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Turns every error into a JSON answer `{"error": "...", "event": n}` with a 4xx status for
/// bad input, so clients always learn what was wrong and the server never answers with a
/// bare 500 for input it could name.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as ProvError {
            context.logger.notice("refused", metadata: ["path": "\(request.uri.path)", "error": "\(e.message)"])
            return Self.json(status: Self.status(e.kind), message: e.message, event: e.eventIndex)
        } catch is NIOTooManyBytesError {
            return Self.tooLarge()
        } catch let e as HTTPError {
            if e.status == .contentTooLarge { return Self.tooLarge() }
            return Self.json(status: e.status, message: e.body ?? e.status.reasonPhrase)
        } catch let e as any HTTPResponseError {
            return Self.json(status: e.status, message: "\(e)")
        } catch {
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return Self.json(status: .internalServerError, message: "\(error)")
        }
    }

    static func tooLarge() -> Response {
        json(status: .contentTooLarge, message: "the request body is larger than \(AppRequestContext.maxBodySize / 1024 / 1024) MiB; send smaller batches")
    }

    static func status(_ kind: ProvError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .badRequest: return .badRequest
        case .notFound: return .notFound
        case .conflict: return .conflict
        case .unprocessable: return .unprocessableContent
        case .forbidden: return .forbidden
        case .tooLarge: return .contentTooLarge
        case .timeout: return .requestTimeout
        }
    }

    struct Body: Encodable {
        var error: String
        var event: Int?
    }

    static func json(status: HTTPResponse.Status, message: String, event: Int? = nil) -> Response {
        let data = (try? JSONEncoder().encode(Body(error: message, event: event))) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

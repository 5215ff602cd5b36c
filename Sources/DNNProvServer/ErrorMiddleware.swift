import DNNProvModel
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The last word on errors: refusals (`HTTPResponseError`, `ProvError` among them) are logged
/// and answered as they say; anything else is a bug of ours, answered 500 with an incident id
/// and no internal text (SQL, file paths, library messages stay in the server log).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as ProvError {
            context.logger.notice("refused", metadata: ["path": "\(Self.loggable(request.uri.path))", "error": "\(e.message)"])
            return try e.response(from: request, context: context)
        } catch is NIOTooManyBytesError {
            return ErrorAnswer(error: "the request body is over the size limit; send smaller batches").response(status: .contentTooLarge)
        } catch let e as HTTPError {
            return ErrorAnswer(error: (e.body ?? e.status.reasonPhrase).clipped(to: ProvError.maxMessageLength)).response(status: e.status, headers: e.headers)
        } catch let e as any HTTPResponseError {
            return try e.response(from: request, context: context)
        } catch {
            let incident = String(UInt32.random(in: 0...UInt32.max), radix: 16)
            context.logger.error("request failed", metadata: [
                "path": "\(Self.loggable(request.uri.path))", "incident": "\(incident)", "error": "\(String(describing: error).clipped(to: 2000))"])
            return ErrorAnswer(error: "internal error (incident \(incident)); the server log has the details").response(status: .internalServerError)
        }
    }

    /// A path fit for the log: cut short, and without the secret of `/t/<token>/` paths.
    static func loggable(_ path: String) -> String {
        guard path.hasPrefix("/t/") else { return path.clipped() }
        let rest = path.dropFirst(3).drop { $0 != "/" }
        return ("/t/***" + rest).clipped()
    }
}

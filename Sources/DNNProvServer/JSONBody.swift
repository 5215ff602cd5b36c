import DNNProvModel
import Foundation
import Hummingbird
import NIOCore

/// Reading request bodies and writing JSON answers. Bodies are read as bytes whatever their
/// Content-Type (DfAnalyzer clients send `application/text` or nothing).
enum JSONBody {
    /// The body, refused with 413 past `limit` bytes.
    static func bytes(_ request: Request, limit: Int) async throws -> Data {
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw ProvError.tooLarge("the request body is larger than \(limit >> 20) MiB (--max-body-mb); send smaller batches")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        let data = try await bytes(request, limit: limit)
        guard !data.isEmpty else { throw ProvError.badRequest("the request body is empty; expected JSON") }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let e as DecodingError {
            throw ProvError(.badRequest, describe(e), eventIndex: eventIndex(e))
        }
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A decoding error in words: what is wrong, and where (`events[3].sets[0].tag`).
    static func describe(_ error: DecodingError) -> String {
        func path(_ p: [any CodingKey]) -> String {
            var s = ""
            for k in p {
                if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
            }
            return s.isEmpty ? "the body" : s
        }
        switch error {
        case .keyNotFound(let key, let ctx):
            return "missing field '\(key.stringValue)' in \(path(ctx.codingPath))"
        case .typeMismatch(let type, let ctx):
            return "\(path(ctx.codingPath)) has the wrong type (expected \(Self.name(type)))"
        case .valueNotFound(let type, let ctx):
            return "\(path(ctx.codingPath)) is null (expected \(Self.name(type)))"
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty {
                return "malformed JSON: \(ctx.underlyingError.map { "\($0)" } ?? ctx.debugDescription)"
            }
            return "\(path(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default:
            return "malformed JSON: \(error)"
        }
    }

    private static func name(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Double.Type, is Int.Type, is Int64.Type: return "a number"
        case is Bool.Type: return "true or false"
        default:
            let n = "\(type)"
            return n.hasPrefix("Array") ? "a list" : (n.hasPrefix("Dictionary") ? "an object" : n)
        }
    }

    /// The index of the batch event a decoding error is in, when there is one.
    static func eventIndex(_ error: DecodingError) -> Int? {
        let path: [any CodingKey]
        switch error {
        case .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): path = c.codingPath
        @unknown default: return nil
        }
        guard path.count >= 2, path[0].stringValue == "events" else { return nil }
        return path[1].intValue
    }
}

/// An error a caller can act on. Each kind maps to one HTTP status; the message names the problem.
public struct ProvError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Malformed input: bad JSON, a bad identifier, a missing field. (400)
        case badRequest
        /// An unknown dataflow, transformation, set or execution. (404)
        case notFound
        /// A specification that contradicts what is stored (an attribute changing type). (409)
        case conflict
        /// Values that do not fit the schema: wrong count, a non-number for NUMERIC. (422)
        case unprocessable
        /// A query that would write, or is otherwise not allowed. (403)
        case forbidden
        /// A body or result over a limit. (413)
        case tooLarge
        /// A query that ran past its time limit. (408)
        case timeout
        /// No valid token where one is required. (401)
        case unauthorized
        /// The server is at capacity; try again after `retryAfter` seconds. (429)
        case tooManyRequests
    }

    /// Messages never grow past this: they may quote input, and input can be megabytes.
    public static let maxMessageLength = 1000

    public var kind: Kind
    public var message: String
    /// For batch requests: the index of the event that failed.
    public var eventIndex: Int?
    /// For `.tooManyRequests`: seconds to wait before sending again.
    public var retryAfter: Int?

    public init(_ kind: Kind, _ message: String, eventIndex: Int? = nil, retryAfter: Int? = nil) {
        self.kind = kind
        self.message = message.clipped(to: Self.maxMessageLength)
        self.eventIndex = eventIndex
        self.retryAfter = retryAfter
    }

    public var description: String { message }

    public static func badRequest(_ m: String) -> ProvError { .init(.badRequest, m) }
    public static func notFound(_ m: String) -> ProvError { .init(.notFound, m) }
    public static func conflict(_ m: String) -> ProvError { .init(.conflict, m) }
    public static func unprocessable(_ m: String) -> ProvError { .init(.unprocessable, m) }
    public static func forbidden(_ m: String) -> ProvError { .init(.forbidden, m) }
    public static func tooLarge(_ m: String) -> ProvError { .init(.tooLarge, m) }
    public static func unauthorized(_ m: String) -> ProvError { .init(.unauthorized, m) }
    public static func tooManyRequests(_ m: String, retryAfter: Int = 1) -> ProvError {
        .init(.tooManyRequests, m, retryAfter: retryAfter)
    }

    /// The same error, tagged with the batch index of the event that caused it.
    public func at(event index: Int) -> ProvError {
        var e = self
        e.eventIndex = index
        e.message = "event \(index): \(message)"
        return e
    }
}

extension String {
    /// The string cut to `limit` characters with a mark saying so: for quoting input in
    /// messages and logs, where a 10 MB tag must not come back whole.
    public func clipped(to limit: Int = 80) -> String {
        guard utf8.count > limit else { return self }
        return String(prefix(limit)) + "… (\(utf8.count) bytes)"
    }
}

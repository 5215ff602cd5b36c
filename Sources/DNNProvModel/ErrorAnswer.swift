/// The body of every error answer: what is wrong and, for a batch, the index of the event that
/// caused it. The server writes it; the clients read it.
public struct ErrorAnswer: Codable, Sendable, Equatable {
    public var error: String
    public var event: Int?

    public init(error: String, event: Int? = nil) {
        self.error = error
        self.event = event
    }
}

/// The status of a task. Anything else a client sends is refused with a message.
public enum TaskStatus: String, Sendable, Codable, CaseIterable {
    case ready = "READY"
    case running = "RUNNING"
    case finished = "FINISHED"
    case finishedWithError = "FINISHED_WITH_ERROR"
    case failed = "FAILED"

    /// Whether the task has ended (its end time is set).
    public var isTerminal: Bool { self == .finished || self == .finishedWithError || self == .failed }

    public static func parse(_ raw: String) throws(ProvError) -> TaskStatus {
        guard let s = TaskStatus(rawValue: raw.trimmingWhitespace().uppercased()) else {
            throw .badRequest("unknown task status '\(raw)'; expected one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return s
    }
}

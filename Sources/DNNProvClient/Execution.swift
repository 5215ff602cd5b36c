import DNNProvModel
import Foundation

/// One run of an instrumented program: it groups the tasks the run sends.
public final class Execution: @unchecked Sendable {
    public let client: ProvenanceClient
    public let dataflow: String
    public let name: String
    public let info: ExecutionInfo?
    private let lock = NSLock()
    private var nextTaskID = 1
    private var infoSent = false

    init(client: ProvenanceClient, dataflow: String, name: String, info: ExecutionInfo?) {
        self.client = client
        self.dataflow = dataflow
        self.name = name
        self.info = info
    }

    /// A task of `transformation`. `id` defaults to the next number in this execution
    /// ("1", "2", ...); the same id in the same execution and transformation is the same task.
    public func task(_ transformation: String, id: String? = nil, dependencies: [ProvTask] = []) -> ProvTask {
        let taskID: String
        if let id {
            taskID = id
        } else {
            lock.lock()
            taskID = String(nextTaskID)
            nextTaskID += 1
            lock.unlock()
        }
        return ProvTask(execution: self, transformation: transformation, id: taskID, dependencies: dependencies.map(\.ref))
    }

    /// The execution's agents go with its first event only.
    func takeInfo() -> ExecutionInfo? {
        guard info != nil else { return nil }
        lock.lock(); defer { lock.unlock() }
        if infoSent { return nil }
        infoSent = true
        return info
    }

    static func makeName(dataflow: String) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        let random = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        return "\(dataflow)-\(f.string(from: Date()))-\(ProcessInfo.processInfo.processIdentifier)-\(random)"
    }
}

extension ExecutionInfo {
    /// This process: the user, the host and the program.
    public static var current: ExecutionInfo {
        let env = ProcessInfo.processInfo.environment
        return ExecutionInfo(
            user: env["USER"] ?? env["LOGNAME"],
            host: ProcessInfo.processInfo.hostName,
            script: CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent })
    }
}

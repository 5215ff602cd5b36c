import DNNProvModel
import Foundation

/// A handle on one task of an execution: it turns `begin`, `save` and `end` into task events.
/// (Named `ProvTask` so that it does not shadow Swift's `Task`.)
///
/// Rows can be sent at once (`save(set:rows:)`) or collected with `add(set:rows:)` and sent
/// with the next `begin`, `save` or `end`. Every call only enqueues.
public final class ProvTask: @unchecked Sendable {
    public let execution: Execution
    public let transformation: String
    public let id: String
    private let lock = NSLock()
    private var pendingSets: [ElementSet] = []
    private var pendingFiles: [FileRef] = []
    private var unsentDependencies: [TaskRef]
    public private(set) var status: TaskStatus = .ready

    init(execution: Execution, transformation: String, id: String, dependencies: [TaskRef]) {
        self.execution = execution
        self.transformation = transformation
        self.id = id
        unsentDependencies = dependencies
    }

    /// How other tasks name this one as a dependency.
    public var ref: TaskRef { TaskRef(transformation: transformation, task: id) }

    /// This task consumes what `tasks` produced (sent with the next event).
    public func depends(on tasks: ProvTask...) {
        lock.lock()
        unsentDependencies += tasks.map(\.ref)
        lock.unlock()
    }

    // MARK: collecting

    public func add(set: String, rows: [[Value]]) {
        lock.lock()
        if let i = pendingSets.firstIndex(where: { $0.tag == set }) {
            pendingSets[i].elements += rows
        } else {
            pendingSets.append(ElementSet(tag: set, elements: rows))
        }
        lock.unlock()
    }

    public func add(set: String, row: [Value]) { add(set: set, rows: [row]) }

    public func add(set: String, values: [any ValueConvertible]) { add(set: set, rows: [values.map(\.provValue)]) }

    public func add(file name: String, path: String) {
        lock.lock()
        pendingFiles.append(FileRef(name: name, path: path))
        lock.unlock()
    }

    // MARK: sending

    /// The task starts (RUNNING), with whatever was added (its input rows, usually).
    public func begin() { send(.running) }

    /// Sends what was added since the last event.
    public func save() { send(.running) }

    /// Sends these rows now (one event), with anything added before.
    public func save(set: String, rows: [[Value]]) { send(.running, extra: ElementSet(tag: set, elements: rows)) }

    public func save(set: String, row: [Value]) { send(.running, extra: ElementSet(tag: set, elements: [row])) }

    public func save(set: String, values: [any ValueConvertible]) { save(set: set, row: values.map(\.provValue)) }

    /// The task ends: FINISHED by default, FAILED with an error message.
    public func end(status: TaskStatus = .finished, error: String? = nil) { send(status, error: error) }

    private func send(_ status: TaskStatus, extra: ElementSet? = nil, error: String? = nil) {
        let time = Date().timeIntervalSince1970
        lock.lock()
        var sets = pendingSets
        if let extra { sets.append(extra) }
        let files = pendingFiles
        let deps = unsentDependencies
        if !pendingSets.isEmpty { pendingSets = [] }
        if !pendingFiles.isEmpty { pendingFiles = [] }
        if !unsentDependencies.isEmpty { unsentDependencies = [] }
        self.status = status
        lock.unlock()
        execution.client.enqueue(TaskEvent(
            dataflow: execution.dataflow, execution: execution.name, transformation: transformation, task: id,
            status: status, time: time, dependencies: deps, sets: sets, files: files,
            executionInfo: execution.takeInfo(), error: error))
    }
}

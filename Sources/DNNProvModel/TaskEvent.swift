/// Retrospective provenance: one message about one task (begin, save, end), carrying the
/// elements the task produced or used since the last message.
public struct TaskEvent: Sendable, Equatable {
    /// Idempotency key: an event whose key is already stored is skipped.
    public var key: String?
    public var dataflow: String
    /// The execution (one run of the instrumented script) the task belongs to.
    /// Nil: the server infers it (DfAnalyzer clients of variant A send none).
    public var execution: String?
    public var transformation: String
    /// The client's task identifier, unique within (execution, transformation).
    public var task: String
    public var status: TaskStatus
    /// Client clock, seconds since 1970.
    public var time: Double?
    public var dependencies: [TaskRef]
    public var sets: [ElementSet]
    public var files: [FileRef]
    public var performances: [Performance]
    public var executionInfo: ExecutionInfo?
    public var error: String?
    public var output: String?
    public var workspace: String?
    public var resource: String?

    public init(
        key: String? = nil, dataflow: String, execution: String?, transformation: String, task: String,
        status: TaskStatus = .running, time: Double? = nil, dependencies: [TaskRef] = [],
        sets: [ElementSet] = [], files: [FileRef] = [], performances: [Performance] = [],
        executionInfo: ExecutionInfo? = nil, error: String? = nil, output: String? = nil,
        workspace: String? = nil, resource: String? = nil
    ) {
        self.key = key
        self.dataflow = dataflow
        self.execution = execution
        self.transformation = transformation
        self.task = task
        self.status = status
        self.time = time
        self.dependencies = dependencies
        self.sets = sets
        self.files = files
        self.performances = performances
        self.executionInfo = executionInfo
        self.error = error
        self.output = output
        self.workspace = workspace
        self.resource = resource
    }
}

/// Rows of values for one set.
public struct ElementSet: Sendable, Equatable {
    public var tag: String
    /// The attributes the rows' values are for, in order; nil means all of the set's attributes
    /// in their registered order. Attributes left out are stored as null.
    public var attributes: [String]?
    public var elements: [[Value]]
    public init(tag: String, attributes: [String]? = nil, elements: [[Value]]) {
        self.tag = tag
        self.attributes = attributes
        self.elements = elements
    }
}

/// A task this task depends on, named by its transformation and client identifier.
public struct TaskRef: Sendable, Equatable {
    public var transformation: String
    public var task: String
    public init(transformation: String, task: String) {
        self.transformation = transformation
        self.task = task
    }
}

public struct FileRef: Sendable, Equatable, Codable {
    public var name: String
    public var path: String
    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }
}

/// A start/end pair as DfAnalyzer clients report it (free text times).
public struct Performance: Sendable, Equatable, Codable {
    public var startTime: String?
    public var endTime: String?
    public init(startTime: String?, endTime: String?) {
        self.startTime = startTime
        self.endTime = endTime
    }
}

/// The PROV agents of an execution: who ran it, where, with which program.
public struct ExecutionInfo: Sendable, Equatable {
    public var user: String?
    public var host: String?
    public var script: String?
    public var email: String?
    /// A JSON document describing the machine (DLProv's `hardware`).
    public var hardware: String?
    public init(user: String? = nil, host: String? = nil, script: String? = nil, email: String? = nil, hardware: String? = nil) {
        self.user = user
        self.host = host
        self.script = script
        self.email = email
        self.hardware = hardware
    }
}

/// What the read endpoints and the CLI list. Each listing is one read on the reader pool.
public struct DataflowSummary: Sendable, Codable, Equatable {
    public init(id: Int64, tag: String, version: Int, transformations: Int, executions: Int) {
        self.id = id
        self.tag = tag
        self.version = version
        self.transformations = transformations
        self.executions = executions
    }

    public var id: Int64
    public var tag: String
    public var version: Int
    public var transformations: Int
    public var executions: Int
}

public struct SetSummary: Sendable, Codable, Equatable {
    public init(id: Int64, tag: String, table: String, attributes: [AttributeSpec], producers: [String], consumers: [String]) {
        self.id = id
        self.tag = tag
        self.table = table
        self.attributes = attributes
        self.producers = producers
        self.consumers = consumers
    }

    public var id: Int64
    public var tag: String
    /// The table's name in queries.
    public var table: String
    public var attributes: [AttributeSpec]
    public var producers: [String]
    public var consumers: [String]
}

public struct ExecutionSummary: Sendable, Codable, Equatable {
    public init(id: Int64, tag: String, startTime: String?, endTime: String?, status: String, tasks: Int, user: String?, host: String?, script: String?) {
        self.id = id
        self.tag = tag
        self.startTime = startTime
        self.endTime = endTime
        self.status = status
        self.tasks = tasks
        self.user = user
        self.host = host
        self.script = script
    }

    public var id: Int64
    public var tag: String
    public var startTime: String?
    public var endTime: String?
    /// RUNNING while any task runs; FAILED if any task failed; FINISHED otherwise.
    public var status: String
    public var tasks: Int
    public var user: String?
    public var host: String?
    public var script: String?

    enum CodingKeys: String, CodingKey {
        case id, tag, status, tasks, user, host, script
        case startTime = "start_time", endTime = "end_time"
    }
}

public struct TaskSummary: Sendable, Codable, Equatable {
    public init(id: Int64, identifier: String, transformation: String, execution: String, status: String, startTime: String?, endTime: String?, dependencies: [Int64], error: String?) {
        self.id = id
        self.identifier = identifier
        self.transformation = transformation
        self.execution = execution
        self.status = status
        self.startTime = startTime
        self.endTime = endTime
        self.dependencies = dependencies
        self.error = error
    }

    public var id: Int64
    public var identifier: String
    public var transformation: String
    public var execution: String
    public var status: String
    public var startTime: String?
    public var endTime: String?
    public var dependencies: [Int64]
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case id, identifier, transformation, execution, status, dependencies, error
        case startTime = "start_time", endTime = "end_time"
    }
}


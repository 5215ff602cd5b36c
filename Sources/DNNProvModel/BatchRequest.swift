/// `POST /api/v1/batch`: the one definition of the batch wire format (docs/api.md). The server
/// decodes it; clients' writers are tested against this decoder.
public struct BatchRequest: Codable, Sendable, Equatable {
    public var events: [TaskEvent]

    public init(events: [TaskEvent]) {
        self.events = events
    }
}

/// The wire form of a task event: snake_case keys, ids as strings or numbers, `hardware` as a
/// JSON object or a string holding one. Fields the wire does not carry (workspace, resource,
/// performances: DfAnalyzer's) are left out.
extension TaskEvent: Codable {
    enum CodingKeys: String, CodingKey {
        case key, dataflow, execution, transformation, task, status, time, dependencies, sets, files, error, output
        case executionInfo = "execution_info"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let status = try c.decodeIfPresent(String.self, forKey: .status)
        self.init(
            key: try c.decodeIfPresent(LenientString.self, forKey: .key)?.value,
            dataflow: try c.decode(String.self, forKey: .dataflow),
            execution: try c.decodeIfPresent(LenientString.self, forKey: .execution)?.value,
            transformation: try c.decode(String.self, forKey: .transformation),
            task: try c.decode(LenientString.self, forKey: .task).value,
            status: try status.map { s throws(ProvError) in try TaskStatus.parse(s) } ?? .running,
            time: try c.decodeIfPresent(Double.self, forKey: .time),
            dependencies: try c.decodeIfPresent([TaskRef].self, forKey: .dependencies) ?? [],
            sets: try c.decodeIfPresent([ElementSet].self, forKey: .sets) ?? [],
            files: try c.decodeIfPresent([FileRef].self, forKey: .files) ?? [],
            executionInfo: try c.decodeIfPresent(ExecutionInfo.self, forKey: .executionInfo),
            error: try c.decodeIfPresent(String.self, forKey: .error),
            output: try c.decodeIfPresent(String.self, forKey: .output))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(key, forKey: .key)
        try c.encode(dataflow, forKey: .dataflow)
        try c.encodeIfPresent(execution, forKey: .execution)
        try c.encode(transformation, forKey: .transformation)
        try c.encode(task, forKey: .task)
        try c.encode(status.rawValue, forKey: .status)
        try c.encodeIfPresent(time, forKey: .time)
        if !dependencies.isEmpty { try c.encode(dependencies, forKey: .dependencies) }
        if !sets.isEmpty { try c.encode(sets, forKey: .sets) }
        if !files.isEmpty { try c.encode(files, forKey: .files) }
        try c.encodeIfPresent(executionInfo, forKey: .executionInfo)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encodeIfPresent(output, forKey: .output)
    }
}

extension TaskRef: Codable {
    enum CodingKeys: String, CodingKey { case transformation, task }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(transformation: try c.decode(String.self, forKey: .transformation),
                  task: try c.decode(LenientString.self, forKey: .task).value)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(transformation, forKey: .transformation)
        try c.encode(task, forKey: .task)
    }
}

extension ElementSet: Codable {
    enum CodingKeys: String, CodingKey { case tag, attributes, elements }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(tag: try c.decode(String.self, forKey: .tag),
                  attributes: try c.decodeIfPresent([String].self, forKey: .attributes),
                  elements: try c.decodeIfPresent([[Value]].self, forKey: .elements) ?? [])
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tag, forKey: .tag)
        try c.encodeIfPresent(attributes, forKey: .attributes)
        try c.encode(elements, forKey: .elements)
    }
}

extension ExecutionInfo: Codable {
    enum CodingKeys: String, CodingKey { case user, host, script, email, hardware }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            user: try c.decodeIfPresent(String.self, forKey: .user),
            host: try c.decodeIfPresent(String.self, forKey: .host),
            script: try c.decodeIfPresent(String.self, forKey: .script),
            email: try c.decodeIfPresent(String.self, forKey: .email),
            hardware: try c.decodeIfPresent(JSONText.self, forKey: .hardware)?.text)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(user, forKey: .user)
        try c.encodeIfPresent(host, forKey: .host)
        try c.encodeIfPresent(script, forKey: .script)
        try c.encodeIfPresent(email, forKey: .email)
        try c.encodeIfPresent(hardware.map(JSONText.init(text:)), forKey: .hardware)
    }
}

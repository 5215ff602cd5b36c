/// The outcome of registering a dataflow specification.
public struct RegistrationResult: Sendable, Codable, Equatable {
    public var id: Int64
    public var tag: String
    public var version: Int
    /// Whether the registration created or extended anything.
    public var changed: Bool

    public init(id: Int64, tag: String, version: Int, changed: Bool) {
        self.id = id
        self.tag = tag
        self.version = version
        self.changed = changed
    }
}


/// What a batch did, sent back to the client once it is committed.
public struct IngestResult: Sendable, Codable, Equatable {
    /// Events stored.
    public var stored = 0
    /// Events skipped because their idempotency key was already stored.
    public var duplicates = 0
    /// Rows added to dataset tables.
    public var rows = 0
    /// Rows not added because the task had already sent them (DfAnalyzer endpoints).
    public var resentRows = 0
    public var warnings: [String] = []

    public init() {}

    public mutating func merge(_ o: IngestResult) {
        stored += o.stored
        duplicates += o.duplicates
        rows += o.rows
        resentRows += o.resentRows
        warnings += o.warnings
    }
}


/// The input limits of one server: what a single request may hold. Each is checked before
/// anything is stored and refused with a message naming the limit and how to change it, so a
/// client learns what to send instead, and no input reaches a conversion or a database limit
/// that would fail less clearly (SQLite allows 2,000 columns; times past year 9999 do not format).
public struct Limits: Sendable, Equatable {
    /// Largest request body, in bytes (`--max-body-mb`).
    public var maxBodyBytes: Int
    /// Events in one batch (`--max-events`).
    public var maxEventsPerRequest: Int
    /// Rows (elements) in one request, over all its events and sets (`--max-rows`).
    public var maxRowsPerRequest: Int
    /// Attributes of one set (`--max-attributes`).
    public var maxAttributesPerSet: Int
    /// Length of one text value, error message or other free text, in bytes (`--max-value-kb`).
    public var maxValueBytes: Int
    /// Transformations of one dataflow and sets of one transformation, per request.
    public var maxSpecEntries: Int

    public init(maxBodyBytes: Int = 32 << 20, maxEventsPerRequest: Int = 10_000, maxRowsPerRequest: Int = 200_000,
                maxAttributesPerSet: Int = 1_000, maxValueBytes: Int = 1 << 20, maxSpecEntries: Int = 1_000) {
        self.maxBodyBytes = maxBodyBytes
        self.maxEventsPerRequest = maxEventsPerRequest
        self.maxRowsPerRequest = maxRowsPerRequest
        self.maxAttributesPerSet = maxAttributesPerSet
        self.maxValueBytes = maxValueBytes
        self.maxSpecEntries = maxSpecEntries
    }

    /// The latest event time accepted: 9999-12-31T23:59:59Z, in seconds since 1970.
    public static let maxEventTime = 253_402_300_799.0

    /// Checks a dataflow specification against the limits.
    public func check(_ spec: DataflowSpec) throws(ProvError) {
        try checkText(spec.tag, "the dataflow tag")
        guard spec.transformations.count <= maxSpecEntries else {
            throw .tooLarge("the dataflow has \(spec.transformations.count) transformations; the limit is \(maxSpecEntries) per request")
        }
        for t in spec.transformations {
            guard t.sets.count + t.programs.count <= maxSpecEntries else {
                throw .tooLarge("transformation '\(t.tag.clipped())' has \(t.sets.count) sets and \(t.programs.count) programs; the limit is \(maxSpecEntries)")
            }
            for p in t.programs {
                try checkText(p.name, "a program name")
                try checkText(p.path, "a program path")
            }
            for s in t.sets where s.attributes.count > maxAttributesPerSet {
                throw .unprocessable("set '\(s.tag.clipped())' has \(s.attributes.count) attributes; the limit is \(maxAttributesPerSet) (--max-attributes)")
            }
        }
    }

    /// Checks the events of one request: their count, rows, times and text lengths.
    public func check(_ events: [TaskEvent]) throws(ProvError) {
        guard events.count <= maxEventsPerRequest else {
            throw .tooLarge("the request holds \(events.count) events; the limit is \(maxEventsPerRequest) (--max-events): send smaller batches")
        }
        var rows = 0
        for (i, e) in events.enumerated() {
            do {
                try check(e)
            } catch {
                throw error.at(event: i)
            }
            for s in e.sets { rows += s.elements.count }
            guard rows <= maxRowsPerRequest else {
                throw .tooLarge("the request holds more than \(maxRowsPerRequest) rows (--max-rows): send smaller batches")
            }
        }
    }

    private func check(_ e: TaskEvent) throws(ProvError) {
        if let t = e.time {
            guard t.isFinite, t >= 0, t <= Self.maxEventTime else {
                throw .badRequest("time must be seconds since 1970 between 0 and \(Int(Self.maxEventTime)) (year 9999); got \(t)")
            }
        }
        for (text, what) in [(e.key, "key"), (e.execution, "execution"), (e.task, "task"), (e.error, "error"), (e.output, "output"),
                             (e.workspace, "workspace"), (e.resource, "resource")] {
            if let text { try checkText(text, what) }
        }
        if let info = e.executionInfo {
            for text in [info.user, info.host, info.script, info.email, info.hardware] {
                if let text { try checkText(text, "execution_info") }
            }
        }
        for f in e.files {
            try checkText(f.name, "a file name")
            try checkText(f.path, "a file path")
        }
        for p in e.performances {
            if let s = p.startTime { try checkText(s, "a performance time") }
            if let s = p.endTime { try checkText(s, "a performance time") }
        }
        for s in e.sets {
            if let names = s.attributes, names.count > maxAttributesPerSet {
                throw .unprocessable("set '\(s.tag.clipped())' names \(names.count) attributes; the limit is \(maxAttributesPerSet) (--max-attributes)")
            }
            for row in s.elements {
                guard row.count <= maxAttributesPerSet else {
                    throw .unprocessable("a row of set '\(s.tag.clipped())' has \(row.count) values; the limit is \(maxAttributesPerSet) (--max-attributes)")
                }
                for case .text(let v) in row {
                    try checkText(v, "a value of set '\(s.tag.clipped())'")
                }
            }
        }
    }

    private func checkText(_ text: String, _ what: String) throws(ProvError) {
        guard text.utf8.count <= maxValueBytes else {
            throw .tooLarge("\(what) is \(text.utf8.count) bytes long; the limit is \(maxValueBytes) bytes (--max-value-kb)")
        }
    }
}

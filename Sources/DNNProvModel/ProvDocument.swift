/// The W3C PROV serialisations dnnprov exports (docs/prov-mapping.md).
public enum ProvFormat: String, Sendable, CaseIterable, Codable {
    case provJSON = "prov-json"
    case provN = "prov-n"
    case provO = "prov-o"
    case dot
    case svg

    /// The media type of the HTTP answer.
    public var mediaType: String {
        switch self {
        case .provJSON: return "application/json"
        case .provN: return "text/provenance-notation; charset=utf-8"
        case .provO: return "text/turtle; charset=utf-8"
        case .dot: return "text/vnd.graphviz; charset=utf-8"
        case .svg: return "image/svg+xml"
        }
    }

    /// The usual file extension.
    public var fileExtension: String {
        switch self {
        case .provJSON: return "json"
        case .provN: return "provn"
        case .provO: return "ttl"
        case .dot: return "dot"
        case .svg: return "svg"
        }
    }

    public static func parse(_ raw: String?) throws(ProvError) -> ProvFormat {
        guard let raw, !raw.isEmpty else { return .provJSON }
        switch raw.lowercased() {
        case "prov-json", "json", "provjson": return .provJSON
        case "prov-n", "provn": return .provN
        case "prov-o", "turtle", "ttl", "provo": return .provO
        case "dot", "graphviz": return .dot
        case "svg": return .svg
        default: throw .badRequest("format must be one of prov-json, prov-n, prov-o, dot, svg, not '\(raw.clipped())'")
        }
    }
}

/// Which part of a dataflow a PROV export covers: all of it, one execution, or one task.
public struct ProvScope: Sendable, Equatable {
    public var execution: String?
    /// The stored task id (as `tasks` lists it).
    public var task: Int64?
    public init(execution: String? = nil, task: Int64? = nil) {
        self.execution = execution
        self.task = task
    }
}

public enum LineageDirection: String, Sendable, Codable, CaseIterable {
    case back, forward, both

    public static func parse(_ raw: String?) throws(ProvError) -> LineageDirection {
        guard let raw, !raw.isEmpty else { return .back }
        guard let d = LineageDirection(rawValue: raw.lowercased()) else {
            throw .badRequest("direction must be back, forward or both, not '\(raw.clipped())'")
        }
        return d
    }
}

/// The derivation path of one element: PROV nodes (elements as entities, tasks as activities)
/// and the relations between them, as `GET /api/v1/dataflows/{tag}/lineage` answers.
public struct LineageAnswer: Codable, Sendable, Equatable {
    public struct Node: Codable, Sendable, Equatable {
        /// `<set>-<row id>` for an element, `task-<id>` for a task.
        public var id: String
        /// `entity` or `activity`.
        public var kind: String
        public var set: String?
        public var row: Int64?
        public var transformation: String?
        public var task: Int64?
        public var execution: String?
        /// Steps from the element asked about (0 for itself); negative: upstream.
        public var depth: Int
        /// The element's attribute values, or the task's status and times.
        public var values: [String: Value]

        public init(id: String, kind: String, set: String? = nil, row: Int64? = nil, transformation: String? = nil,
                    task: Int64? = nil, execution: String? = nil, depth: Int, values: [String: Value] = [:]) {
            self.id = id
            self.kind = kind
            self.set = set
            self.row = row
            self.transformation = transformation
            self.task = task
            self.execution = execution
            self.depth = depth
            self.values = values
        }
    }

    public struct Edge: Codable, Sendable, Equatable, Hashable {
        public var from: String
        public var to: String
        /// `wasGeneratedBy` (element -> task), `used` (task -> element), `wasDerivedFrom`
        /// (element -> element), `wasInformedBy` (task -> task).
        public var relation: String
        public init(from: String, to: String, relation: String) {
            self.from = from
            self.to = to
            self.relation = relation
        }
    }

    public var dataflow: String
    public var root: String
    public var direction: LineageDirection
    public var depth: Int
    public var nodes: [Node]
    public var edges: [Edge]
    /// More than `maxNodes` nodes were reachable: the answer stops there.
    public var truncated: Bool
    public var elapsedMs: Double

    enum CodingKeys: String, CodingKey {
        case dataflow, root, direction, depth, nodes, edges, truncated
        case elapsedMs = "elapsed_ms"
    }

    public init(dataflow: String, root: String, direction: LineageDirection, depth: Int, nodes: [Node], edges: [Edge],
                truncated: Bool, elapsedMs: Double) {
        self.dataflow = dataflow
        self.root = root
        self.direction = direction
        self.depth = depth
        self.nodes = nodes
        self.edges = edges
        self.truncated = truncated
        self.elapsedMs = elapsedMs
    }
}

/// What importing a PROV-JSON document stored.
public struct ProvImportResult: Codable, Sendable, Equatable {
    public var dataflow: String
    public var executions: [String]
    public var tasks: Int
    public var elements: Int
    public var sets: [String]
    /// Events the store had already (a document imported again).
    public var duplicates: Int
    public var warnings: [String]

    public init(dataflow: String, executions: [String], tasks: Int, elements: Int, sets: [String], duplicates: Int, warnings: [String]) {
        self.dataflow = dataflow
        self.executions = executions
        self.tasks = tasks
        self.elements = elements
        self.sets = sets
        self.duplicates = duplicates
        self.warnings = warnings
    }
}

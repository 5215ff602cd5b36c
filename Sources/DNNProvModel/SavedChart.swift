/// How a query's result is drawn: which columns give x, y and the series (group).
public struct ChartSpec: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case line, bar, scatter
    }

    public var type: Kind
    /// The x column (for a bar chart, the category).
    public var x: String
    /// One or more y columns.
    public var y: [String]
    /// A column whose values split the rows into series (one per optimizer, say).
    public var group: String?

    public init(type: Kind, x: String, y: [String], group: String? = nil) {
        self.type = type
        self.x = x
        self.y = y
        self.group = group
    }
}

/// The body of `POST /api/v1/charts`: a SQL console result to keep on the dataflow's dashboard.
public struct ChartRequest: Sendable, Codable, Equatable {
    public var dataflow: String
    public var title: String
    public var sql: String
    public var chart: ChartSpec

    public init(dataflow: String, title: String, sql: String, chart: ChartSpec) {
        self.dataflow = dataflow
        self.title = title
        self.sql = sql
        self.chart = chart
    }

    public static let maxTitleLength = 200
    public static let maxSQLBytes = 100_000
}

/// A chart of a dashboard: saved by a user (kept in the database) or built in.
public struct SavedChart: Sendable, Codable, Equatable {
    /// A number for saved charts; a name (`seed-000-accuracy`) for built-in ones.
    public var id: String
    public var dataflow: String
    public var title: String
    public var sql: String
    public var chart: ChartSpec
    public var createdAt: String?
    /// Built-in charts cannot be deleted.
    public var builtin: Bool

    public init(id: String, dataflow: String, title: String, sql: String, chart: ChartSpec, createdAt: String?, builtin: Bool) {
        self.id = id
        self.dataflow = dataflow
        self.title = title
        self.sql = sql
        self.chart = chart
        self.createdAt = createdAt
        self.builtin = builtin
    }

    enum CodingKeys: String, CodingKey {
        case id, dataflow, title, sql, chart, builtin
        case createdAt = "created_at"
    }
}

/// The body of `POST /api/v1/dataflows/{tag}/dfquery`: a query in DfAnalyzer's query language
/// (`mapping(...)`, `source(...)`, `target(...)`, `include(...)`, `exclude(...)`,
/// `projection(...)`, `selection(...)`; docs/dfanalyzer.md, "Query language"), to translate to SQL
/// over the dataflow's datasets and, unless `run` is false, to run.
///
/// ```json
/// {"query": "mapping(physical)\nsource(itrainingmodel)\ntarget(otrainingmodel)", "limit": 1000, "run": true}
/// ```
public struct DfQueryRequest: Sendable, Codable, Equatable {
    /// The query text, one clause per line (clauses may also span lines).
    public var query: String
    /// The most rows to return (default 10,000; at most `QueryOptions.maxLimit`).
    public var limit: Int?
    /// Run the generated SQL (the default), or only answer it (`false`: `result` is null).
    public var run: Bool
    /// The query's time limit in milliseconds (default 10,000), as for `POST /api/v1/query`.
    public var timeoutMs: Int?

    public init(query: String, limit: Int? = nil, run: Bool = true, timeoutMs: Int? = nil) {
        self.query = query
        self.limit = limit
        self.run = run
        self.timeoutMs = timeoutMs
    }

    enum CodingKeys: String, CodingKey {
        case query, limit, run
        case timeoutMs = "timeout_ms"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        query = try c.decode(String.self, forKey: .query)
        limit = try c.decodeIfPresent(Int.self, forKey: .limit)
        run = try c.decodeIfPresent(Bool.self, forKey: .run) ?? true
        timeoutMs = try c.decodeIfPresent(Int.self, forKey: .timeoutMs)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(query, forKey: .query)
        try c.encodeIfPresent(limit, forKey: .limit)
        try c.encode(run, forKey: .run)
        try c.encodeIfPresent(timeoutMs, forKey: .timeoutMs)
    }
}

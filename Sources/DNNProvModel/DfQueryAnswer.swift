/// The answer of `POST /api/v1/dataflows/{tag}/dfquery` (and of `POST /query_interface/{tag}/{id}`
/// with `?format=json`): the SQL generated from the query text, and its result.
///
/// ```json
/// {"sql": "SELECT ...\nFROM ds_itrainingmodel\nJOIN ds_otrainingmodel ON ...", "result": {"columns": [...], "rows": [...]}}
/// ```
public struct DfQueryAnswer: Sendable, Codable, Equatable {
    /// The generated statement: one read-only SELECT over the dataflow's `ds_<set>` tables, one
    /// join per line. It runs unchanged through `POST /api/v1/query` with `"dataflow": "<tag>"`.
    public var sql: String
    /// The rows, or null when the request asked for the SQL only (`"run": false`).
    public var result: QueryResult?

    public init(sql: String, result: QueryResult?) {
        self.sql = sql
        self.result = result
    }

    enum CodingKeys: String, CodingKey {
        case sql, result
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sql = try c.decode(String.self, forKey: .sql)
        result = try c.decodeIfPresent(QueryResult.self, forKey: .result)
    }

    /// `result` is always written, as `null` when absent: clients test it against null.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sql, forKey: .sql)
        if let result { try c.encode(result, forKey: .result) } else { try c.encodeNil(forKey: .result) }
    }
}

import DNNProvModel

extension ServerClient {
    /// Translates a query in DfAnalyzer's query language (`mapping(...)`, `source(...)`,
    /// `target(...)`, ...; docs/dfanalyzer.md) to SQL over `dataflow`'s datasets and, unless
    /// `run` is false, runs it (`POST /api/v1/dataflows/{tag}/dfquery`, a reader token).
    public func dfquery(_ query: String, dataflow: String, limit: Int? = nil, run: Bool = true,
                        timeoutMs: Int? = nil) async throws -> DfQueryAnswer {
        try await send("POST", "/api/v1/dataflows/\(Self.escape(dataflow))/dfquery",
                       body: DfQueryRequest(query: query, limit: limit, run: run, timeoutMs: timeoutMs))
    }
}

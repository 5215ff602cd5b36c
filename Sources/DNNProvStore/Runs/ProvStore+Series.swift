import DNNProvModel

/// What `ProvStore.series` draws: a set's attributes for some runs.
public struct SeriesRequest: Sendable {
    public var set: String
    public var y: [String]
    public var x: String?
    public var runs: [Int64]
    /// The most points per series; past it the series is downsampled.
    public var points: Int
    /// Only the rows whose x lies in this range (a zoomed chart asking for detail).
    public var range: ClosedRange<Double>?

    public static let maxRuns = 100
    public static let maxAttributes = 16
    public static let pointRange = 10...100_000
    /// The most points one answer may hold (runs x attributes x points).
    public static let maxTotalPoints = 2_000_000

    public init(set: String, y: [String], x: String? = nil, runs: [Int64], points: Int = 2000, range: ClosedRange<Double>? = nil) {
        self.set = set
        self.y = y
        self.x = x
        self.runs = runs
        self.points = points
        self.range = range
    }
}

extension ProvStore {
    /// Each run's rows of the set in order (one indexed range per run: tables are clustered by
    /// their owner's task id), as x/y series, downsampled past `points`.
    public func series(of dataflow: String, _ request: SeriesRequest) async throws -> SeriesAnswer {
        let df = try catalog.dataflow(Identifier.normalizeDataflow(dataflow))
        let s = try df.set(Ingestion.tag(request.set, in: df.sets, what: "set tag"))
        guard !request.y.isEmpty, request.y.count <= SeriesRequest.maxAttributes else {
            throw ProvError.badRequest("name 1 to \(SeriesRequest.maxAttributes) attributes to draw (y)")
        }
        guard !request.runs.isEmpty, request.runs.count <= SeriesRequest.maxRuns else {
            throw ProvError.badRequest("name 1 to \(SeriesRequest.maxRuns) runs")
        }
        guard SeriesRequest.pointRange.contains(request.points) else {
            throw ProvError.badRequest("points must be between \(SeriesRequest.pointRange.lowerBound) and \(SeriesRequest.pointRange.upperBound)")
        }
        func numeric(_ raw: String) throws -> String {
            let name = raw.lowercased()
            guard let a = s.attributes.first(where: { $0.name == name }) else {
                throw ProvError.notFound("set '\(s.tag)' has no attribute '\(raw.clipped())' (it has \(s.attributes.map(\.name).joined(separator: ", ")))")
            }
            guard a.type.isNumeric else { throw ProvError.badRequest("attribute '\(a.name)' of set '\(s.tag)' is \(a.type.rawValue), not NUMERIC") }
            return a.name
        }
        guard request.runs.count * request.y.count * request.points <= SeriesRequest.maxTotalPoints else {
            throw ProvError.badRequest("runs x attributes x points is at most \(SeriesRequest.maxTotalPoints): ask for fewer points per series")
        }
        let ys = try request.y.map(numeric)
        let x = try request.x.map(numeric)
        guard let owner = s.owner else { return SeriesAnswer(set: s.tag, x: x, series: []) }
        let columns = (["id", x ?? "id"] + ys).map(\.quotedIdentifier).joined(separator: ", ")
        let table = s.table
        let points = request.points
        return try await read { db in
            let sql = """
                SELECT \(columns) FROM \(db.dialect.tableSQL(table))
                WHERE \("\(owner)_task_id".quotedIdentifier) IN (SELECT id FROM task WHERE df_exec = ?) ORDER BY id
                """
            var series: [SeriesAnswer.Series] = []
            for run in request.runs {
                guard let tag = try String.fetchOne(db, sql: "SELECT tag FROM dataflow_execution WHERE id = ? AND df_id = ?",
                                                    arguments: [run, df.id]) else {
                    throw ProvError.notFound("dataflow '\(df.tag)' has no run \(run)")
                }
                var xs: [Double?] = []
                var columns = [[Double?]](repeating: [], count: ys.count)
                var lastID: Int64?
                try db.forEachRow(sql, [run.sqlValue]) { row in
                    lastID = row[0]
                    xs.append(x == nil ? Double(xs.count + 1) : Self.number(row[1]))
                    for i in ys.indices { columns[i].append(Self.number(row[i + 2])) }
                    return true
                }
                let count = xs.count
                if let range = request.range {
                    // The rows in range, in order (x is not always monotonic: a resumed run).
                    let keep = xs.indices.filter { xs[$0].map(range.contains) ?? false }
                    xs = keep.map { xs[$0] }
                    columns = columns.map { column in keep.map { column[$0] } }
                }
                for (i, y) in ys.enumerated() {
                    let (dx, dy) = Downsampling.extremes(x: xs, y: columns[i], points: points)
                    series.append(.init(run: run, execution: tag, y: y, count: count, downsampled: dx.count < xs.count,
                                        lastID: lastID, x: dx, values: dy))
                }
            }
            return SeriesAnswer(set: s.tag, x: x, series: series)
        }
    }

    /// A stored value as a finite number, or nil ('NaN' is stored as text, see `Ingestion`).
    static func number(_ v: SQLValue) -> Double? {
        switch v {
        case .real(let d): return d.isFinite ? d : nil
        case .integer(let i): return Double(i)
        default: return nil
        }
    }
}

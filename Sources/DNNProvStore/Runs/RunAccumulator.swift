import DNNProvModel
import Foundation

/// What a run's summary accumulates from its rows as they are stored, so the runs table never
/// aggregates epoch rows: the hyperparameters (input sets' single row), the row counts of input
/// sets with several rows, and per output set and NUMERIC attribute its last, min, max, count.
/// Stored as JSON in `run_summary.summary`.
struct RunAccumulator: Codable, Equatable {
    var params: [String: [String: Value]] = [:]
    var tables: [String: Int] = [:]
    var metrics: [String: [String: MetricSummary]] = [:]

    /// Takes one stored row of an input set (no transformation produces it): its one row is the
    /// run's hyperparameters; several rows are a table.
    mutating func addInput(_ values: ArraySlice<SQLValue>, of set: SetEntry) {
        if let rows = tables[set.tag] {
            tables[set.tag] = rows + 1
        } else if params[set.tag] != nil {
            params[set.tag] = nil
            tables[set.tag] = 2
        } else {
            var row: [String: Value] = [:]
            for (a, v) in zip(set.attributes, values) { row[a.name] = Self.value(v) }
            params[set.tag] = row
        }
    }

    /// Takes what a job added to an output set of the run.
    mutating func merge(_ delta: RunSetDelta) {
        guard !delta.set.producers.isEmpty else { return }
        for (a, m) in zip(delta.set.attributes, delta.metrics) where m.count > 0 {
            metrics[delta.set.tag, default: [:]][a.name, default: MetricSummary()].merge(m)
        }
    }

    static func value(_ v: SQLValue) -> Value {
        switch v {
        case .null, .blob: return .null
        case .integer(let i): return .number(Double(i))
        case .real(let d): return d.isNaN ? .text("NaN") : .number(d)
        case .text(let s): return .text(s)
        }
    }

    /// The JSON stored in `run_summary.summary`, keys sorted so equal summaries are equal text.
    func json() throws -> String {
        String(decoding: try Self.encoder.encode(self), as: UTF8.self)
    }

    static func decode(_ json: String) throws -> RunAccumulator {
        try JSONDecoder().decode(RunAccumulator.self, from: Data(json.utf8))
    }

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()
}

import DNNProvModel

/// What one job added to one run's set: per NUMERIC attribute (by position, no name lookups on
/// the hot path) the summary of its new values, and, when someone follows the dataflow live,
/// the rows themselves for a `rows` event.
struct RunSetDelta {
    let set: SetEntry
    var metrics: [MetricSummary]
    var rows: [[QueryValue]] = []
    /// More rows than an event carries were added: the event says so instead of carrying them.
    var truncated = false

    /// The most rows one `rows` event carries.
    static let maxLiveRows = 2000

    init(set: SetEntry) {
        self.set = set
        metrics = Array(repeating: MetricSummary(), count: set.attributes.count)
    }

    /// `args`: the row as inserted (owner task id, row id, attribute values).
    mutating func add(_ args: [SQLValue], live: Bool) {
        for i in metrics.indices where set.attributes[i].type.isNumeric {
            switch args[i + 2] {
            // NaN is no extreme (SQLite stores it as text and never gets here; PostgreSQL as a double).
            case .real(let d) where !d.isNaN: metrics[i].add(d)
            case .integer(let n): metrics[i].add(Double(n))
            default: break
            }
        }
        guard live, !truncated else { return }
        if rows.count < Self.maxLiveRows {
            rows.append([QueryValue(args[1]), QueryValue(args[0])] + args[2...].map { QueryValue($0) })
        } else {
            truncated = true
            rows.removeAll()
        }
    }

    /// The `rows` event of this delta.
    func liveRows(run: Int64, execution: String) -> LiveRows {
        LiveRows(set: set.tag, run: run, execution: execution,
                 columns: ["id", "\(set.owner ?? "task")_task_id"] + set.attributes.map(\.name), rows: rows, truncated: truncated)
    }
}

import DNNProvModel

/// One training run read from another tool (an MLflow run, a TensorBoard run directory, a Keras
/// CSVLogger file), in a neutral form: what `ImportedRun+Events.swift` maps onto the predefined
/// DL dataflow (one execution with one `TrainingModel` task, its parameters in `iTrainingModel`,
/// its metrics in `oTrainingModel`, where it came from in `iImport`). See docs/import.md.
public struct ImportedRun: Sendable, Equatable {
    /// The tool a run was read from.
    public enum SourceKind: String, Sendable, Codable {
        case mlflow, tensorboard, csv
    }

    /// One row of metrics: the values logged at one step (or epoch).
    public struct MetricRow: Sendable, Equatable {
        /// The step, or the epoch for CSVLogger files (as the source numbers it).
        public var step: Int64
        /// When the row was logged (seconds since 1970), when the source says.
        public var time: Double?
        /// Metric name (as the source names it) -> value.
        public var values: [String: Double]

        public init(step: Int64, time: Double? = nil, values: [String: Double]) {
            self.step = step
            self.time = time
            self.values = values
        }
    }

    public var kind: SourceKind
    /// The run's identity in its source: the MLflow run id, the TensorBoard run directory
    /// (relative to the root given), the CSV file's name. Part of every idempotency key.
    public var sourceID: String
    /// The execution tag in dnnprov (`mlflow-<run id>`, the run directory, the file name).
    public var execution: String
    /// Where the run came from, stored as the execution's script (`mlflow:<uri>#<run id>`, the
    /// event files' directory, the CSV file's path).
    public var location: String
    public var user: String?
    public var host: String?
    /// Extra facts about the source (experiment, run name, ...), stored as the execution's
    /// `hardware` JSON next to `{"imported_from": kind}`.
    public var details: [String: String]
    /// Seconds since 1970.
    public var startTime: Double?
    public var endTime: Double?
    /// FINISHED, FAILED or RUNNING.
    public var status: TaskStatus
    /// An error message for a FAILED run (e.g. MLflow's `KILLED`).
    public var error: String?
    /// Parameters (hyperparameters) as the source names them, values as text.
    public var params: [(name: String, value: String)]
    /// Whether `MetricRow.step` counts epochs (`EPOCH`) or steps (`STEP`).
    public var stepIsEpoch: Bool
    /// The rows in order of step.
    public var rows: [MetricRow]

    public init(kind: SourceKind, sourceID: String, execution: String, location: String, user: String? = nil,
                host: String? = nil, details: [String: String] = [:], startTime: Double? = nil, endTime: Double? = nil,
                status: TaskStatus = .finished, error: String? = nil, params: [(name: String, value: String)] = [],
                stepIsEpoch: Bool = false, rows: [MetricRow] = []) {
        self.kind = kind
        self.sourceID = sourceID
        self.execution = execution
        self.location = location
        self.user = user
        self.host = host
        self.details = details
        self.startTime = startTime
        self.endTime = endTime
        self.status = status
        self.error = error
        self.params = params
        self.stepIsEpoch = stepIsEpoch
        self.rows = rows
    }

    public static func == (a: ImportedRun, b: ImportedRun) -> Bool {
        a.kind == b.kind && a.sourceID == b.sourceID && a.execution == b.execution && a.location == b.location
            && a.user == b.user && a.host == b.host && a.details == b.details && a.startTime == b.startTime
            && a.endTime == b.endTime && a.status == b.status && a.error == b.error
            && a.params.map(\.name) == b.params.map(\.name) && a.params.map(\.value) == b.params.map(\.value)
            && a.stepIsEpoch == b.stepIsEpoch && a.rows == b.rows
    }

    /// The metric names of the rows, in order of first appearance.
    public var metricNames: [String] {
        var seen: Set<String> = []
        var out: [String] = []
        for r in rows {
            for k in r.values.keys.sorted() where seen.insert(k).inserted { out.append(k) }
        }
        return out
    }
}

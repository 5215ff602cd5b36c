import DNNProvModel
import Foundation

/// How imported runs become provenance: the dataflow specification their attributes need and,
/// per run, the task events that store it through the normal write path (`POST /api/v1/batch` or
/// `ProvStore.ingest`). docs/import.md describes the mapping.
///
/// Every run is one execution with one `TrainingModel` task (identifier `1`):
/// - the first event (`RUNNING`, at the run's start time) carries the parameters as one row of
///   `iTrainingModel`, where the run came from as one row of `iImport` (`SOURCE`, `SOURCE_ID`,
///   `LOCATION`, `IMPORTED_AT`) and the execution's info (user, host, `script` = the location,
///   `hardware` = a JSON object saying `imported_from` and the source's details);
/// - then one event per metric row: one row of `oTrainingModel` (`EPOCH` or `STEP`, `TIMESTAMP`
///   and the metrics logged at that step);
/// - then, for a run that ended, an event with its status (`FINISHED` or `FAILED`) at its end time.
///
/// Each event's idempotency key is derived from the source kind, the source's run id and the
/// step (`import:mlflow:<run id>:step:12`), so importing the same run again stores nothing twice,
/// and a run that grew since (more steps) adds only its new rows.
public struct ImportMapping: Sendable {
    public let dataflow: String
    /// Raw parameter name -> attribute name of `iTrainingModel`.
    public let paramAttributes: [String: String]
    /// Raw metric name -> attribute name of `oTrainingModel`.
    public let metricAttributes: [String: String]
    /// The specification to register (extends the dataflow in place when it exists).
    public let spec: DataflowSpec

    public static let transformation = "trainingmodel"
    public static let inputSet = "itrainingmodel"
    public static let outputSet = "otrainingmodel"
    public static let importSet = "iimport"
    public static let importAttributes = ["source", "source_id", "location", "imported_at"]

    /// The mapping for `runs` into `dataflow`: attribute names made valid identifiers, parameter
    /// types inferred (NUMERIC when every value given is a number, TEXT otherwise).
    public init(dataflow: String, runs: [ImportedRun]) {
        self.dataflow = dataflow.lowercased()
        var reservedOut: Set<String> = ["timestamp"]
        for r in runs { reservedOut.insert(r.stepIsEpoch ? "epoch" : "step") }
        let paramNames = Set(runs.flatMap { $0.params.map(\.name) }).sorted()
        let metricNames = Set(runs.flatMap { $0.rows.flatMap { $0.values.keys } }).sorted()
        paramAttributes = Self.names(paramNames, reserved: [])
        // A metric named like the run's index column (or TIMESTAMP) is stored as `<name>_value`.
        metricAttributes = Self.names(metricNames, reserved: reservedOut)

        var numeric: [String: Bool] = [:]
        for r in runs {
            for p in r.params {
                let attr = paramAttributes[p.name]!
                // A number, or nothing (empty, None, null): numeric() throws for anything else.
                let fits = (try? Value.text(p.value).numeric()) != nil || Self.isEmptyValue(p.value)
                numeric[attr] = (numeric[attr] ?? true) && fits
            }
        }
        var paramSpecs: [AttributeSpec] = []
        var seen: Set<String> = []
        for name in paramNames {
            let attr = paramAttributes[name]!
            guard seen.insert(attr).inserted else { continue }
            paramSpecs.append(AttributeSpec(name: attr, type: numeric[attr] ?? false ? .numeric : .text))
        }
        var outSpecs: [AttributeSpec] = []
        if runs.contains(where: { $0.stepIsEpoch }) { outSpecs.append(AttributeSpec(name: "epoch", type: .numeric)) }
        if runs.contains(where: { !$0.stepIsEpoch }) { outSpecs.append(AttributeSpec(name: "step", type: .numeric)) }
        // TEXT, as the Keras callback and the predefined dataflow have it.
        outSpecs.append(AttributeSpec(name: "timestamp", type: .text))
        seen = Set(outSpecs.map(\.name))
        for name in metricNames {
            let attr = metricAttributes[name]!
            if seen.insert(attr).inserted { outSpecs.append(AttributeSpec(name: attr, type: .numeric)) }
        }
        var sets: [SetSpec] = []
        if !paramSpecs.isEmpty { sets.append(SetSpec(tag: Self.inputSet, role: .input, attributes: paramSpecs)) }
        sets.append(SetSpec(tag: Self.outputSet, role: .output, attributes: outSpecs))
        sets.append(SetSpec(tag: Self.importSet, role: .input,
                            attributes: Self.importAttributes.map { AttributeSpec(name: $0, type: .text) }))
        spec = DataflowSpec(tag: self.dataflow, transformations: [TransformationSpec(tag: Self.transformation, sets: sets)])
    }

    /// The key prefix of a run's events.
    public static func keyPrefix(_ run: ImportedRun) -> String { "import:\(run.kind.rawValue):\(run.sourceID)" }

    /// The task events that store `run`, in order. `importedAt` is the `IMPORTED_AT` value (the
    /// one stored by an earlier import of the same run, so that the first event stays the same).
    public func events(for run: ImportedRun, importedAt: String) -> [TaskEvent] {
        let prefix = Self.keyPrefix(run)
        let task = "1"
        var hardware: [String: String] = run.details
        hardware["imported_from"] = run.kind.rawValue
        let info = ExecutionInfo(user: run.user, host: run.host, script: run.location, hardware: Self.json(hardware))
        var first: [ElementSet] = []
        if !run.params.isEmpty {
            var attrs: [String] = []
            var row: [Value] = []
            for p in run.params {
                let a = paramAttributes[p.name]!
                guard !attrs.contains(a) else { continue }
                attrs.append(a)
                row.append(.text(p.value))
            }
            first.append(ElementSet(tag: Self.inputSet, attributes: attrs, elements: [row]))
        }
        first.append(ElementSet(tag: Self.importSet, attributes: Self.importAttributes,
                                elements: [[.text(run.kind.rawValue), .text(run.sourceID), .text(run.location), .text(importedAt)]]))
        var events = [TaskEvent(key: "\(prefix):begin", dataflow: dataflow, execution: run.execution,
                                transformation: Self.transformation, task: task, status: .running,
                                time: run.startTime, sets: first, executionInfo: info)]
        let index = run.stepIsEpoch ? "epoch" : "step"
        for r in run.rows {
            var attrs = [index, "timestamp"]
            var row: [Value] = [.number(Double(r.step)), r.time.map { .text(Self.timestamp($0)) } ?? .null]
            for (name, value) in r.values.sorted(by: { $0.key < $1.key }) {
                let a = metricAttributes[name]!
                guard !attrs.contains(a) else { continue }
                attrs.append(a)
                row.append(.number(value))
            }
            events.append(TaskEvent(key: "\(prefix):\(index):\(r.step)", dataflow: dataflow, execution: run.execution,
                                    transformation: Self.transformation, task: task, status: .running, time: r.time,
                                    sets: [ElementSet(tag: Self.outputSet, attributes: attrs, elements: [row])]))
        }
        if run.status.isTerminal {
            let last = run.rows.last.map { "\($0.step)" } ?? "none"
            events.append(TaskEvent(key: "\(prefix):end:\(last)", dataflow: dataflow, execution: run.execution,
                                    transformation: Self.transformation, task: task, status: run.status,
                                    time: run.endTime, error: run.status == .failed ? (run.error ?? "failed in \(run.kind.rawValue)") : nil))
        }
        return events
    }

    /// A name as an attribute: lower case; every character other than a letter, digit, `_`, `-`
    /// or `.` becomes `_`; `_` in front of one that does not start with a letter or `_`; `id`,
    /// `*_task_id` and `sqlite_*` (reserved) get a `_` added; at most 128 characters.
    public static func attributeName(_ raw: String) -> String {
        var bytes: [UInt8] = raw.lowercased().utf8.map { c in
            let ok = (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95 || c == 45 || c == 46
            return ok ? c : UInt8(ascii: "_")
        }
        if bytes.isEmpty { bytes = [UInt8(ascii: "_")] }
        let first = bytes[0]
        if !((first >= 97 && first <= 122) || first == 95) { bytes.insert(UInt8(ascii: "_"), at: 0) }
        var name = String(decoding: bytes, as: UTF8.self)
        if name.hasPrefix("sqlite_") { name = "_" + name }
        if name == "id" || name.hasSuffix("_task_id") { name += "_" }
        if name.utf8.count > Identifier.maxLength { name = String(name.prefix(Identifier.maxLength)) }
        return name
    }

    /// Raw names -> distinct attribute names (a later raw name that maps onto a taken one gets
    /// `_2`, `_3`, ...; case-only differences are the same attribute).
    static func names(_ raws: [String], reserved: Set<String>) -> [String: String] {
        var out: [String: String] = [:]
        var byAttr: [String: String] = [:]  // attribute -> the lower-cased raw name that owns it
        for raw in raws {
            var base = attributeName(raw)
            if reserved.contains(base) { base += "_value" }
            var name = base
            var n = 1
            while let owner = byAttr[name], owner != raw.lowercased() {
                n += 1
                name = "\(base)_\(n)"
            }
            byAttr[name] = raw.lowercased()
            out[raw] = name
        }
        return out
    }

    /// `yyyy-MM-dd HH:mm:ss.SSS` in UTC, as the store writes times (the Keras callback writes local
    /// `yyyy-MM-dd HH:mm:ss`).
    public static func timestamp(_ seconds: Double) -> String { Timestamp.format(seconds) }

    /// Whether a value reads as no value for a NUMERIC attribute (empty, `None`, `null`).
    static func isEmptyValue(_ text: String) -> Bool {
        ["", "none", "null"].contains(text.trimmingCharacters(in: .whitespaces).lowercased())
    }

    static func json(_ object: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(object), as: UTF8.self)) ?? "{}"
    }
}

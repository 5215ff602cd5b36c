import ArgumentParser
import DNNProvClient
import DNNProvModel
import DNNProvPostgres
import DNNProvStore
import Foundation

/// `dnnprov import`: brings runs of other tools into a dataflow. `prov` (the default, so that
/// `dnnprov import FILE` keeps working) reads a PROV-JSON document; `mlflow`, `tensorboard` and
/// `csv` read training runs and store them as the predefined DL dataflow does (docs/import.md).
struct ImportGroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import runs: a PROV-JSON document (the default), or MLflow runs, TensorBoard event files, Keras CSVLogger files.",
        discussion: """
            Examples:
              dnnprov import run.provenance.json --dataflow other
              dnnprov import mlflow --tracking-uri http://localhost:5000 --experiment mnist --dataflow mnist
              dnnprov import tensorboard runs/ --dataflow mnist
              dnnprov import csv training.log --dataflow mnist
            Importing the same runs again stores nothing twice (docs/import.md).
            """,
        subcommands: [ImportCommand.self, ImportMLflowCommand.self, ImportTensorBoardCommand.self, ImportCSVCommand.self],
        defaultSubcommand: ImportCommand.self)
}

/// Where imported runs go and how they are sent; shared by the run importers.
struct RunImportOptions: ParsableArguments {
    @OptionGroup var source: SourceOptions
    @Option(help: "The dataflow to import into (created, or extended with the attributes found).") var dataflow: String
    @Option(help: "Events per request (one metric row each; at most 10000).") var batchSize = 2000

    func validate() throws {
        do { _ = try Identifier.normalizeDataflow(dataflow) } catch { throw ValidationError("--dataflow: \(error.message)") }
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 10000") }
    }

    /// What an import did: printed as JSON on standard output.
    struct Summary: Encodable {
        var dataflow: String
        var source: String
        var runs: Int
        var executions: [String]
        /// Events stored (events whose key was new).
        var events: Int
        /// Rows added to the dataflow's sets (metric rows, parameter and import rows).
        var rows: Int
        /// Events skipped because an earlier import stored them.
        var duplicates: Int
        var warnings: [String]
    }

    static func conflictHint(_ message: String) -> String {
        "\(message): a run of the same source and id was imported into this dataflow before with other values "
            + "(a CSV file or run directory of the same name from another training?); import it into another dataflow, or rename it"
    }

    /// Registers the attributes `runs` need, then sends their events in batches.
    func store(_ runs: [ImportedRun], kind: ImportedRun.SourceKind, warnings: [String]) async throws {
        for w in warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
        guard !runs.isEmpty else { throw CLIError("nothing to import: no runs found") }
        let mapping = ImportMapping(dataflow: dataflow, runs: runs)
        let target = try ImportTarget(source)
        defer { target.close() }
        try await target.register(mapping.spec)
        let earlier = try await target.importedAt(runs, dataflow: mapping.dataflow)
        let now = ImportMapping.timestamp(Date().timeIntervalSince1970)
        var total = IngestResult()
        var batch: [TaskEvent] = []
        func flush() async throws {
            guard !batch.isEmpty else { return }
            total.merge(try await target.ingest(batch))
            batch.removeAll(keepingCapacity: true)
        }
        var skipped = 0
        do {
            for run in runs {
                for e in mapping.events(for: run, importedAt: earlier[run.sourceID] ?? now) {
                    // A run imported before keeps its first event (parameters, origin, start time)
                    // as stored: a CSV file's time may have changed since, when training went on.
                    if earlier[run.sourceID] != nil, e.key?.hasSuffix(":begin") ?? false {
                        skipped += 1
                        continue
                    }
                    batch.append(e)
                    if batch.count >= batchSize { try await flush() }
                }
            }
            try await flush()
        } catch let e as ProvError where e.kind == .conflict {
            throw CLIError(Self.conflictHint(e.message))
        } catch ServerClientError.refused(let status, let message) where status == 409 {
            throw CLIError(Self.conflictHint(message))
        }
        total.duplicates += skipped
        for w in total.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
        let summary = Summary(dataflow: mapping.dataflow, source: kind.rawValue, runs: runs.count, executions: runs.map(\.execution),
                              events: total.stored, rows: total.rows, duplicates: total.duplicates, warnings: warnings + total.warnings)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(summary), as: UTF8.self))
    }
}

/// The write path of an import: a server (`--url`) or a database file (`--db`).
struct ImportTarget {
    let store: ProvStore?
    let client: ServerClient?

    init(_ source: SourceOptions) throws {
        if let db = source.db {
            store = try ProvStore.open(db, logger: .quiet)
            client = nil
        } else {
            store = nil
            client = ServerClient(url: try ServerURL.checked(source.url))
        }
    }

    func close() { store?.close() }

    func register(_ spec: DataflowSpec) async throws {
        if let store { _ = try await store.register(spec) } else { _ = try await client!.register(spec) }
    }

    func ingest(_ events: [TaskEvent]) async throws -> IngestResult {
        if let store { return try await store.ingest(events) }
        return try await client!.ingest(events)
    }

    func query(_ sql: String, dataflow: String) async throws -> QueryResult {
        if let store { return try await store.query(sql, options: QueryOptions(dataflow: dataflow, limit: 100_000)) }
        return try await client!.query(sql, dataflow: dataflow, limit: 100_000)
    }

    /// `IMPORTED_AT` of the runs an earlier import stored (source id -> time), so that their
    /// first event is sent again unchanged and recognised as a duplicate.
    func importedAt(_ runs: [ImportedRun], dataflow: String) async throws -> [String: String] {
        var out: [String: String] = [:]
        let kind = runs.first?.kind.rawValue ?? ""
        let ids = Array(Set(runs.map(\.sourceID))).sorted()
        for start in stride(from: 0, to: ids.count, by: 200) {
            let list = ids[start..<min(ids.count, start + 200)].map(Self.literal).joined(separator: ", ")
            let sql = "SELECT source_id, min(imported_at) FROM ds_iimport WHERE source = \(Self.literal(kind)) AND source_id IN (\(list)) GROUP BY source_id"
            for row in try await query(sql, dataflow: dataflow).rows {
                if row.count == 2, case .text(let id) = row[0], case .text(let at) = row[1] { out[id] = at }
            }
        }
        return out
    }

    static func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
}

/// `dnnprov import mlflow --tracking-uri URI [--experiment E]... --dataflow TAG`.
struct ImportMLflowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlflow",
        abstract: "Import the runs of an MLflow tracking server (parameters, metric histories, status) through its REST API.",
        discussion: "Example: dnnprov import mlflow --tracking-uri http://localhost:5000 --experiment mnist --dataflow mnist")

    @Option(help: "The MLflow tracking server (default: $MLFLOW_TRACKING_URI).") var trackingURI: String?
    @Option(help: "An experiment, by name or id (repeatable; default: every experiment).") var experiment: [String] = []
    @OptionGroup var options: RunImportOptions

    func run() async throws {
        try await reportingErrors {
            guard let uri = trackingURI ?? ProcessInfo.processInfo.environment["MLFLOW_TRACKING_URI"], !uri.isEmpty else {
                throw CLIError("give --tracking-uri (e.g. http://localhost:5000) or set MLFLOW_TRACKING_URI")
            }
            if let problem = ServerURL.problem(uri) { throw CLIError("--tracking-uri \(problem)") }
            let runs = try await MLflowSource(trackingURI: uri).runs(experiments: experiment)
            try await options.store(runs, kind: .mlflow, warnings: [])
        }
    }
}

/// `dnnprov import tensorboard DIR_OR_FILE... --dataflow TAG`.
struct ImportTensorBoardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tensorboard",
        abstract: "Import the scalars of TensorBoard event files (events.out.tfevents.*), one run per directory; no TensorFlow needed.",
        discussion: "Example: dnnprov import tensorboard runs/ --dataflow mnist (runs/a and runs/b become executions 'a' and 'b')")

    @Argument(help: "Directories (searched recursively) or event files.") var paths: [String]
    @OptionGroup var options: RunImportOptions

    func run() async throws {
        try await reportingErrors {
            let (runs, warnings) = try TensorBoardEvents.runs(paths)
            try await options.store(runs, kind: .tensorboard, warnings: warnings)
        }
    }
}

/// `dnnprov import csv FILE... --dataflow TAG`.
struct ImportCSVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csv",
        abstract: "Import Keras CSVLogger files (epoch,loss,accuracy,val_loss,...), one run per file.",
        discussion: "Example: dnnprov import csv training.log --dataflow mnist")

    @Argument(help: "CSVLogger files.") var files: [String]
    @OptionGroup var options: RunImportOptions

    func run() async throws {
        try await reportingErrors {
            var runs: [ImportedRun] = []
            var warnings: [String] = []
            for f in files {
                let file = try CSVLoggerFile(path: f)
                warnings += file.warnings
                let run = file.run()
                if runs.contains(where: { $0.sourceID == run.sourceID }) {
                    throw CLIError("\(f): another file given has the same name '\(run.sourceID)'; a run is named by its file name")
                }
                runs.append(run)
            }
            try await options.store(runs, kind: .csv, warnings: warnings)
        }
    }
}

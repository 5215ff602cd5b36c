import ArgumentParser
import DNNProvClient
import DNNProvModel
import DNNProvPostgres
import DNNProvStore
import Foundation
import NIOCore

extension ProvFormat: ExpressibleByArgument {}
extension LineageDirection: ExpressibleByArgument {}

/// `dnnprov export TAG --format prov-json|prov-n|prov-o|dot|svg`: a W3C PROV document of a
/// dataflow, one execution or one task, streamed to standard output or a file.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a dataflow (or one execution or task) as W3C PROV: PROV-JSON, PROV-N, PROV-O (Turtle), Graphviz DOT or SVG.",
        discussion: "Example: dnnprov export alexnet --execution run-1 --format prov-n --output run-1.provn (docs/prov-mapping.md)")

    @OptionGroup var source: SourceOptions
    @Argument(help: "The dataflow tag.") var tag: String
    @Option(help: "Only this execution (its tag, as 'dnnprov runs' lists it).") var execution: String?
    @Option(help: "Only this task (its stored id, as 'dnnprov tasks' lists it).") var task: Int64?
    @Option(help: "prov-json, prov-n, prov-o, dot or svg.") var format: ProvFormat = .provJSON
    @Option(name: [.short, .long], help: "Write to this file instead of standard output.") var output: String?

    func run() async throws {
        try await reportingErrors {
            let scope = ProvScope(execution: execution, task: task)
            let handle: FileHandle
            if let output {
                // Opened in place, not made anew: Foundation's createFile writes a temporary file and
                // renames it, which would replace a device (`--output /dev/null`) or a pipe.
                let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                guard fd >= 0 else { throw CLIError("cannot write \(output): \(String(cString: strerror(errno)))") }
                handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            } else {
                handle = FileHandle.standardOutput
            }
            defer { if output != nil { try? handle.close() } }
            if let db = source.db {
                let store = try ProvStore.open(db, readOnly: true, logger: .quiet)
                defer { store.close() }
                let job = try await store.provExport(tag, scope: scope, format: format)
                if format == .svg {
                    let path = try await onOwnThread { try ProvGraphviz.svg(job) }
                    defer { try? FileManager.default.removeItem(atPath: path) }
                    let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
                    while let data = try input.read(upToCount: 1 << 16), !data.isEmpty { try handle.write(contentsOf: data) }
                } else {
                    _ = try await onOwnThread { try job.write { chunk in try handle.write(contentsOf: chunk) } }
                }
            } else {
                try await ServerClient(url: try ServerURL.checked(source.url)).exportProv(dataflow: tag, scope: scope, format: format) { buffer in
                    try handle.write(contentsOf: buffer.readableBytesView)
                }
            }
        }
    }
}

/// `dnnprov import [prov] FILE`: a PROV-JSON document into the store, next to captured runs (the
/// default subcommand of `ImportGroupCommand`).
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prov",
        abstract: "Import a PROV-JSON document (dnnprov's, yProv4ML's, DLProv's, the prov package's) into a dataflow.")

    @Option(help: "Server URL (default: $DNNPROV_URL or http://localhost:22000).") var url: String?
    @Option(help: "Write into this database directly instead of through a server (a SQLite file or a postgresql:// URL).") var db: String?
    @Option(help: "The dataflow to import into (default: the document's own, else 'imported').") var dataflow: String?
    @Argument(help: "The PROV-JSON file ('-': standard input).") var file: String

    func run() async throws {
        try await reportingErrors {
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
            let result: ProvImportResult
            if let db {
                let store = try ProvStore.open(db, logger: .quiet)
                defer { store.close() }
                result = try await store.importProv(data, dataflow: dataflow)
            } else {
                result = try await ServerClient(url: try ServerURL.checked(url)).importProv(data, dataflow: dataflow)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        }
    }
}

/// `dnnprov lineage TAG --set S --id ROWID`: the derivation path of one element.
struct LineageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineage",
        abstract: "Show what an element (a row of a set) was derived from, and what was derived from it.",
        discussion: "Example: dnnprov lineage alexnet --set otestingmodel --id 61 --direction back")

    @OptionGroup var source: SourceOptions
    @Argument(help: "The dataflow tag.") var tag: String
    @Option(help: "The element's set.") var set: String
    @Option(help: "The element's row id (the 'id' column).") var id: Int64
    @Option(help: "back, forward or both.") var direction: LineageDirection = .back
    @Option(help: "Derivation steps to follow.") var depth = 10
    @Flag(help: "Print the answer as JSON.") var json = false

    func run() async throws {
        try await reportingErrors {
            let answer: LineageAnswer
            if let db = source.db {
                let store = try ProvStore.open(db, readOnly: true, logger: .quiet)
                defer { store.close() }
                answer = try await store.lineage(of: tag, set: set, row: id, direction: direction, depth: depth)
            } else {
                answer = try await ServerClient(url: try ServerURL.checked(source.url)).lineage(dataflow: tag, set: set, id: id, direction: direction, depth: depth)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(answer), as: UTF8.self))
                return
            }
            for n in answer.nodes.sorted(by: { ($0.depth, $0.id) < ($1.depth, $1.id) }) {
                let values = n.values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.text ?? "null")" }.joined(separator: " ")
                let what = n.kind == "entity" ? "\(n.set ?? "") #\(n.row ?? 0)" : "task \(n.task ?? 0) (\(n.transformation ?? ""))"
                print("\(n.depth > 0 ? "+" : "")\(n.depth)\t\(what)\t\(values)")
            }
            for e in answer.edges { print("\(e.from) \(e.relation) \(e.to)") }
            if answer.truncated { print("(truncated at \(answer.nodes.count) nodes)") }
        }
    }
}

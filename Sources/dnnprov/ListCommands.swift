import ArgumentParser
import DNNProvModel
import Foundation

struct DataflowsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dataflows", abstract: "List the registered dataflows.")

    @OptionGroup var source: SourceOptions
    @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

    func run() async throws {
        try await reportingErrors {
            let list = try await source.dataflows()
            let result = QueryResult(
                columns: ["id", "tag", "version", "transformations", "executions"].map { .init(name: $0, type: "") },
                rows: list.map { [.integer($0.id), .text($0.tag), .integer(Int64($0.version)), .integer(Int64($0.transformations)), .integer(Int64($0.executions))] },
                truncated: false, elapsedMs: 0)
            print(try Output.render(result, as: format), terminator: "")
        }
    }
}

struct TasksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tasks", abstract: "List the tasks of a dataflow.")

    @OptionGroup var source: SourceOptions
    @Option(help: "Only the tasks of this execution.") var execution: String?
    @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table
    @Argument(help: "The dataflow tag.") var tag: String

    func run() async throws {
        try await reportingErrors {
            let list = try await source.tasks(tag, execution: execution)
            let cols = ["id", "identifier", "transformation", "execution", "status", "start_time", "end_time", "dependencies"]
            let result = QueryResult(
                columns: cols.map { .init(name: $0, type: "") },
                rows: list.map { t in
                    [.integer(t.id), .text(t.identifier), .text(t.transformation), .text(t.execution), .text(t.status),
                     t.startTime.map(QueryValue.text) ?? .null, t.endTime.map(QueryValue.text) ?? .null,
                     .text(t.dependencies.map(String.init).joined(separator: ","))]
                },
                truncated: false, elapsedMs: 0)
            print(try Output.render(result, as: format), terminator: "")
        }
    }
}

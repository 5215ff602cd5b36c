import ArgumentParser
import DNNProvModel
import Foundation

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query", abstract: "Run a read-only SQL query on the provenance database.")

    @OptionGroup var source: SourceOptions
    @Option(help: "Dataflow whose tables answer to unqualified names (ds_otrainingmodel).") var dataflow: String?
    @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table
    @Option(help: "Most rows to return.") var limit = 10_000
    @Argument(help: "The SQL statement.") var sql: String

    func run() async throws {
        try await reportingErrors {
            let result = try await source.query(sql, dataflow: dataflow, limit: limit)
            print(try Output.render(result, as: format), terminator: "")
        }
    }
}

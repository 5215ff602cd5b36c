import ArgumentParser
import DNNProvClient
import DNNProvModel
import DNNProvPostgres
import DNNProvServer
import DNNProvStore
import Foundation

/// `dnnprov dfquery TAG 'QUERY'`: a query in DfAnalyzer's query language (mapping, source,
/// target, include, exclude, projection, selection; docs/dfanalyzer.md), translated to SQL over
/// the dataflow's datasets and run. With `--url` the server translates and runs it; with `--db`
/// it is translated here and run on the file, opened read-only.
struct DfQueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dfquery",
        abstract: "Run a query in DfAnalyzer's query language (source, target, projection, selection).",
        discussion: """
            Example: dnnprov dfquery alexnet 'mapping(physical)
            source(itrainingmodel)
            target(otrainingmodel)
            projection(itrainingmodel.optimizer_name; otrainingmodel.epoch; otrainingmodel.loss)
            selection(otrainingmodel.loss < 0.5)'
            """)

    @OptionGroup var source: SourceOptions
    @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table
    @Option(help: "Most rows to return.") var limit = 10_000
    @Flag(help: "Print the generated SQL only; do not run it.") var sqlOnly = false
    @Option(help: "Read the query from this file ('-': standard input).") var file: String?
    @Argument(help: "The dataflow tag.") var tag: String
    @Argument(help: "The query text ('-': standard input).") var query: String?

    func validate() throws {
        if file != nil && query != nil { throw ValidationError("give the query as an argument or with --file, not both") }
        if file == nil && query == nil { throw ValidationError("give the query text (or --file FILE, or '-' for standard input)") }
    }

    func run() async throws {
        try await reportingErrors {
            let text = try readQuery()
            let answer: DfQueryAnswer
            if let db = source.db {
                let store = try ProvStore.open(db, readOnly: true, logger: .quiet)
                defer { store.close() }
                let sql = try store.dfQuerySQL(text, dataflow: tag)
                answer = DfQueryAnswer(sql: sql, result: sqlOnly ? nil : try await store.query(sql, options: QueryOptions(dataflow: tag, limit: limit)))
            } else {
                answer = try await ServerClient(url: try ServerURL.checked(source.url)).dfquery(text, dataflow: tag, limit: limit, run: !sqlOnly)
            }
            if let result = answer.result {
                print(try Output.render(result, as: format), terminator: "")
            } else if format == .json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(answer), as: UTF8.self))
            } else {
                print(answer.sql)
            }
        }
    }

    func readQuery() throws -> String {
        let path = file ?? (query == "-" ? "-" : nil)
        guard let path else { return query ?? "" }
        if path == "-" { return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read the query file '\(path)'") }
        return String(decoding: data, as: UTF8.self)
    }
}

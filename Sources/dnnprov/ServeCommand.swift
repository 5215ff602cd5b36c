import ArgumentParser
import DNNProvServer
import Hummingbird
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the provenance server (DfAnalyzer endpoints and /api/v1).")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 22000
    @Option(help: "SQLite database file (created when missing).") var db = "dnnprov.sqlite"
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level '\(logLevel)'")
        }
        try await reportingErrors {
            let app = try buildApplication(ServerConfiguration(host: host, port: port, databasePath: db, logLevel: level))
            try await app.runService()
        }
    }
}

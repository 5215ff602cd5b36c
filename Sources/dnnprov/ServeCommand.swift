import ArgumentParser
import DNNProvModel
import DNNProvServer
import DNNProvStore
import Foundation
import Hummingbird
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the provenance server (DfAnalyzer endpoints and /api/v1).",
        discussion: """
            On a loopback address (the default) tokens are not required unless --require-tokens is \
            given. On any other address they are, unless --insecure is given. See docs/security.md.
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (1-65535).") var port = 22000
    @Option(help: "SQLite database file (created when missing), or postgresql://user[:password]@host[:port]/database.") var db = "dnnprov.sqlite"
    @Option(help: "PostgreSQL URL of a read replica: user queries run there, so analysts cannot slow ingestion.") var queryDb: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"
    @Flag(help: "Require API tokens even on a loopback address.") var requireTokens = false
    @Flag(help: "Serve a non-loopback address without tokens (anyone who can connect can read and write).") var insecure = false
    @Option(help: "PEM certificate chain: serve HTTPS (with --tls-key).") var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Option(help: "Largest request body, in MiB.") var maxBodyMb = 32
    @Option(help: "Events in one batch request.") var maxEvents = 10_000
    @Option(help: "Rows (elements) in one request.") var maxRows = 200_000
    @Option(help: "Attributes of one set.") var maxAttributes = 1_000
    @Option(help: "Length of one text value, in KiB.") var maxValueKb = 1_024
    @Option(help: "Write requests that may wait for the writer before the answer is 429.") var ingestQueue = 64
    @Option(help: "User queries running at once.") var queryWorkers = 4
    @Option(help: "User queries one client (token or address) may run at once.") var queriesPerClient = 2
    @Option(help: "Largest query answer, in MiB of values.") var maxResultMb = 16
    @Option(help: "Seconds between the log lines saying what was stored.") var ingestLogSeconds = 60.0
    @Option(help: "Seconds without news after which a running run is shown as stale.") var staleAfter = 300
    @Option(help: "The web UI's folder (default: share/dnnprov/ui next to the binary, or ui/ of the source tree).") var uiDir: String?

    func validate() throws {
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be between 1 and 65535, not \(port)") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown log level '\(logLevel)'") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        for (name, value) in [("--max-body-mb", maxBodyMb), ("--max-events", maxEvents), ("--max-rows", maxRows),
                              ("--max-attributes", maxAttributes), ("--max-value-kb", maxValueKb), ("--query-workers", queryWorkers),
                              ("--queries-per-client", queriesPerClient), ("--max-result-mb", maxResultMb)] where value < 1 {
            throw ValidationError("\(name) must be at least 1")
        }
        guard ingestLogSeconds > 0, ingestLogSeconds <= 86_400 else { throw ValidationError("--ingest-log-seconds must be between 0 and 86400") }
        guard staleAfter >= 1 else { throw ValidationError("--stale-after must be at least 1 second") }
        if let uiDir, !FileManager.default.fileExists(atPath: uiDir + "/index.html") {
            throw ValidationError("--ui-dir \(uiDir) holds no index.html")
        }
        guard ingestQueue >= 0 else { throw ValidationError("--ingest-queue must be at least 0") }
        guard maxAttributes <= 1_900 else { throw ValidationError("--max-attributes is at most 1900 (SQLite's column limit)") }
        guard maxBodyMb <= 1_024 else { throw ValidationError("--max-body-mb is at most 1024") }
    }

    func run() async throws {
        let loopback = ServerConfiguration.isLoopback(host)
        let auth: ServerConfiguration.Auth = (requireTokens || !(loopback || insecure)) ? .required : .off
        let config = ServerConfiguration(
            host: host, port: port, databasePath: db, logLevel: Logger.Level(rawValue: logLevel) ?? .info, auth: auth,
            tls: tlsCert.map { .init(certificate: $0, privateKey: tlsKey ?? "") },
            limits: Limits(maxBodyBytes: maxBodyMb << 20, maxEventsPerRequest: maxEvents, maxRowsPerRequest: maxRows,
                           maxAttributesPerSet: maxAttributes, maxValueBytes: maxValueKb << 10),
            queryPool: QueryPoolConfiguration(workers: queryWorkers), queriesPerClient: queriesPerClient,
            maxResultBytes: maxResultMb << 20, ingestQueue: ingestQueue,
            ingestLogInterval: .milliseconds(Int64(ingestLogSeconds * 1000)), uiDirectory: uiDir,
            staleAfter: .seconds(staleAfter), queryDatabase: queryDb)
        try await reportingErrors {
            let app = try buildApplication(config)
            do {
                try await app.runService()
            } catch {
                // NIO's bind error reads "bind(descriptor:ptr:bytes:): Address already in use (errno: 98)".
                let text = "\(error)"
                if text.contains("Address already in use") || text.contains("errno: \(EADDRINUSE)") {
                    throw CLIError("\(host):\(port) is already in use (another dnnprov serve?); stop it or choose another --port")
                }
                if text.contains("Cannot assign requested address") || text.contains("errno: \(EADDRNOTAVAIL)") {
                    throw CLIError("cannot listen on \(host):\(port): this machine has no such address")
                }
                if text.contains("Permission denied") || text.contains("errno: \(EACCES)") {
                    throw CLIError("cannot listen on \(host):\(port): permission denied (ports below 1024 need privileges)")
                }
                throw error
            }
        }
    }
}

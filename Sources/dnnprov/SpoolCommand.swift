import ArgumentParser
import DNNProvClient
import DNNProvModel
import Foundation

/// `dnnprov spool status|replay`: the data the clients could not deliver, in the spool files of
/// the Python client and of the Swift client.
struct SpoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spool", abstract: "Show or send the data the clients could not deliver (their spool files).",
        discussion: """
            Both clients keep what they cannot deliver in spool files: the Python client in \
            $DNNPROV_SPOOL_DIR or ~/.cache/dnnprov/spool, the Swift client in \
            $XDG_CACHE_HOME/dnnprov/spool or ~/.cache/dnnprov/spool. A client started for the \
            same server replays them; 'spool replay --to URL' sends them to another server \
            (e.g. after a run under a wrong DNNPROV_URL).
            """,
        subcommands: [Status.self, Replay.self])

    struct Directories: ParsableArguments {
        @Option(name: .customLong("dir"), help: "A spool directory (repeat for several; default: both clients' default directories).")
        var dirs: [String] = []

        var resolved: [String] { dirs.isEmpty ? SpoolFiles.defaultDirectories() : dirs }

        /// Servers a Python spool file (named by a hash of its URL) may have been for.
        func candidateURLs(extra: String?) -> [String] {
            let env = ProcessInfo.processInfo.environment
            return [extra, env["DNNPROV_URL"], env["DFA_URL"], ServerURL.fallback, "http://127.0.0.1:22000"].compactMap { $0 }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the spool files: server, events, batches, age.")
        @OptionGroup var directories: Directories
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func run() async throws {
            try await reportingErrors {
                let files = SpoolFiles.scan(directories: directories.resolved, candidateURLs: directories.candidateURLs(extra: nil))
                    .filter { $0.batches + $0.registrations + $0.unreadable > 0 }
                guard !files.isEmpty else {
                    print("nothing spooled in \(directories.resolved.joined(separator: ", "))")
                    return
                }
                let now = Date()
                let result = QueryResult(
                    columns: ["file", "client", "server", "events", "batches", "dataflows", "age", "state"].map { .init(name: $0, type: "") },
                    rows: files.map { f in
                        [.text(f.path), .text(f.client.rawValue), .text(f.url.map(Redact.url) ?? "unknown (hash \(f.urlHash))"),
                         .integer(Int64(f.events)), .integer(Int64(f.batches)), .integer(Int64(f.registrations)),
                         .text(Age.describe(now.timeIntervalSince(f.modified))),
                         .text(f.inUse ? "in use by a running client" : f.unreadable > 0 ? "\(f.unreadable) unreadable line(s)" : "waiting")]
                    },
                    truncated: false, elapsedMs: 0)
                print(try Output.render(result, as: format), terminator: "")
                if format == .table, files.contains(where: { !$0.inUse }) {
                    print("send them with: dnnprov spool replay [--to URL]")
                }
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send the spooled data, in order, and remove each file once the server acknowledged all of it.",
            discussion: """
                Dataflow registrations go first, then the batches of each file in the order the \
                client would have sent them. Each event carries its idempotency key, so a replay \
                that is interrupted and run again stores every event once. DNNPROV_TOKEN and \
                DNNPROV_CA_FILE are used as the clients use them.
                """)
        @OptionGroup var directories: Directories
        @Option(help: "Send everything to this server (default: the server each file was spooled for).") var to: String?

        func validate() throws {
            if let to, let problem = ServerURL.problem(to) { throw ValidationError("--to \(problem)") }
        }

        func run() async throws {
            try await reportingErrors {
                let files = SpoolFiles.scan(directories: directories.resolved, candidateURLs: directories.candidateURLs(extra: nil))
                    .filter { $0.batches + $0.registrations > 0 }
                guard !files.isEmpty else {
                    print("nothing to replay: no spooled data in \(directories.resolved.joined(separator: ", "))")
                    return
                }
                if to == nil, let bad = files.compactMap(\.url).first(where: { ServerURL.problem($0) != nil }) {
                    throw CLIError("some files were spooled for '\(Redact.url(bad))', which is not a server URL; send them elsewhere with --to URL")
                }
                let target = to
                let report = await Task.detached { SpoolFiles.replay(files, to: target) }.value
                for m in report.messages { FileHandle.standardError.write(Data("warning: \(m)\n".utf8)) }
                var summary = "replayed \(report.filesDelivered) of \(files.count) file(s): \(report.stored) event(s) stored, \(report.duplicates) already stored"
                if report.registrations > 0 { summary += ", \(report.registrations) dataflow registration(s)" }
                if report.dropped > 0 { summary += ", \(report.dropped) refused by the server (dropped)" }
                if report.failure == nil || report.filesDelivered + report.stored + report.duplicates + report.registrations > 0 {
                    print(summary)
                }
                if let failure = report.failure {
                    throw CLIError("\(failure); the rest stays in the spool (run 'dnnprov spool replay' again)")
                }
                if report.filesDelivered == 0, report.skippedInUse == files.count {
                    throw CLIError("every spool file is in use by a running client, which sends it itself")
                }
            }
        }
    }
}

enum Redact {
    /// A URL with a DfAnalyzer-style path token (`/t/<secret>`) hidden.
    static func url(_ u: String) -> String {
        guard let range = u.range(of: "/t/") else { return u }
        let rest = u[range.upperBound...]
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        return u.replacingCharacters(in: range.upperBound..<end, with: "***")
    }
}

enum Age {
    static func describe(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        if s < 86_400 { return "\(s / 3600)h\(s % 3600 / 60 > 0 ? "\(s % 3600 / 60)m" : "")" }
        return "\(s / 86_400)d"
    }

    /// A duration such as 12.3s, 4m05s, 1h02m.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "" }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let s = Int(seconds.rounded())
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, s % 3600 / 60)
    }
}

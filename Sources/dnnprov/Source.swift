import ArgumentParser
import DNNProvClient
import DNNProvModel
import DNNProvPostgres
import DNNProvStore
import Foundation

/// Where the read commands read from: a running server (`--url`, default `DNNPROV_URL` or
/// http://localhost:22000) or a database file directly (`--db`).
struct SourceOptions: ParsableArguments {
    @Option(help: "Server URL (default: $DNNPROV_URL or http://localhost:22000).") var url: String?
    @Option(help: "Use this database directly instead of a server: a SQLite file or a postgresql:// URL.") var db: String?

    func validate() throws {
        if url != nil && db != nil { throw ValidationError("give --url or --db, not both") }
        if let url, let problem = ServerURL.problem(url) { throw ValidationError("--url \(problem)") }
    }

    func query(_ sql: String, dataflow: String?, limit: Int) async throws -> QueryResult {
        if let db {
            let store = try ProvStore.open(db, readOnly: true, logger: .quiet)
            return try await store.query(sql, options: QueryOptions(dataflow: dataflow, limit: limit))
        }
        return try await ServerClient(url: try ServerURL.checked(url)).query(sql, dataflow: dataflow, limit: limit)
    }

    func dataflows() async throws -> [DataflowSummary] {
        if let db { return try await ProvStore.open(db, readOnly: true, logger: .quiet).dataflows() }
        return try await ServerClient(url: try ServerURL.checked(url)).dataflows()
    }

    func tasks(_ tag: String, execution: String?) async throws -> [TaskSummary] {
        if let db { return try await ProvStore.open(db, readOnly: true, logger: .quiet).tasks(of: tag, execution: execution) }
        return try await ServerClient(url: try ServerURL.checked(url)).tasks(dataflow: tag, execution: execution)
    }
}

/// The server URL of a command: `--url`, else `DNNPROV_URL`, else http://localhost:22000, checked
/// before anything is sent (a URL without a scheme otherwise ends as `unsupportedScheme(...)`).
enum ServerURL {
    static let fallback = "http://localhost:22000"

    /// What is wrong with `url`, as the end of a sentence that starts with where it came from.
    static func problem(_ url: String) -> String? {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            let hint = url.contains("://") ? "" : " (e.g. http://\(url))"
            return "is '\(url)': a server URL starts with http:// or https://\(hint)"
        }
        guard let parts = URLComponents(string: url), let host = parts.host, !host.isEmpty else {
            return "is '\(url)': not a URL with a host (e.g. http://localhost:22000)"
        }
        return nil
    }

    /// The URL to use: `option` when given, else `DNNPROV_URL`, else the default; throws a
    /// CLIError naming where a bad one came from.
    static func checked(_ option: String?, optionName: String = "--url") throws -> String {
        if let option {
            if let p = problem(option) { throw CLIError("\(optionName) \(p)") }
            return option
        }
        if let env = ProcessInfo.processInfo.environment["DNNPROV_URL"], !env.isEmpty {
            if let p = problem(env) { throw CLIError("DNNPROV_URL \(p)") }
            return env
        }
        return fallback
    }
}

/// A failure the user can act on: printed as `error: ...`, exit code 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

/// Runs a command body, turning every error into a message on stderr and exit code 1.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as ProvError {
        FileHandle.standardError.write(Data("error: \(e.message)\n".utf8))
        throw ExitCode.failure
    } catch let e as CLIError {
        FileHandle.standardError.write(Data("error: \(e.description)\n".utf8))
        throw ExitCode.failure
    } catch let e as ServerClientError {
        FileHandle.standardError.write(Data("error: \(e.description)\n".utf8))
        throw ExitCode.failure
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

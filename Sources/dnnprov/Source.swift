import ArgumentParser
import DNNProvClient
import DNNProvModel
import DNNProvStore
import Foundation

/// Where the read commands read from: a running server (`--url`, default `DNNPROV_URL` or
/// http://localhost:22000) or a database file directly (`--db`).
struct SourceOptions: ParsableArguments {
    @Option(help: "Server URL (default: $DNNPROV_URL or http://localhost:22000).") var url: String?
    @Option(help: "Read this SQLite database file directly instead of asking a server.") var db: String?

    func validate() throws {
        if url != nil && db != nil { throw ValidationError("give --url or --db, not both") }
    }

    func query(_ sql: String, dataflow: String?, limit: Int) async throws -> QueryResult {
        if let db {
            let store = try ProvStore(path: db, readOnly: true, logger: .quiet)
            return try await store.query(sql, options: QueryOptions(dataflow: dataflow, limit: limit))
        }
        return try await ServerClient(url: url).query(sql, dataflow: dataflow, limit: limit)
    }

    func dataflows() async throws -> [DataflowSummary] {
        if let db { return try await ProvStore(path: db, readOnly: true, logger: .quiet).dataflows() }
        return try await ServerClient(url: url).dataflows()
    }

    func tasks(_ tag: String, execution: String?) async throws -> [TaskSummary] {
        if let db { return try await ProvStore(path: db, readOnly: true, logger: .quiet).tasks(of: tag, execution: execution) }
        return try await ServerClient(url: url).tasks(dataflow: tag, execution: execution)
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

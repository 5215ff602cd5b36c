import ArgumentParser
import DNNProvClient
import DNNProvModel
import DNNProvPostgres
import DNNProvStore
import Foundation

/// `dnnprov token create|list|revoke`: API tokens, on the database file directly (`--db`, how
/// the first admin token is made) or through a server with an admin token (`--url`, `DNNPROV_TOKEN`).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, list and revoke API tokens.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print its secret (shown only this once).")
        @Option(help: "reader (read and query), writer (also send provenance) or admin (also manage tokens).") var role: String
        @Option(name: .customLong("dataflow"), help: "Limit the token to this dataflow (repeat for several; default: all).") var dataflows: [String] = []
        @Option(help: "A name to recognise the token by.") var name: String?
        @OptionGroup var source: TokenSource

        func run() async throws {
            try await reportingErrors {
                let request = TokenRequest(role: try Role.parse(role), dataflows: dataflows.isEmpty ? nil : dataflows, name: name)
                let created = try await source.create(request)
                print(created.secret)
                FileHandle.standardError.write(Data("created token \(created.token.id) (\(created.token.role.rawValue), \(created.token.dataflows?.joined(separator: ", ") ?? "all dataflows"))\n".utf8))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var source: TokenSource
        @Option(help: "table, csv or json.") var format: OutputFormat = .table

        func run() async throws {
            try await reportingErrors {
                let tokens = try await source.list()
                let result = QueryResult(
                    columns: ["id", "name", "role", "dataflows", "created_at", "revoked_at"].map { .init(name: $0, type: "") },
                    rows: tokens.map { [.integer($0.id), .text($0.name), .text($0.role.rawValue),
                                        .text($0.dataflows?.joined(separator: ",") ?? "*"), .text($0.createdAt),
                                        $0.revokedAt.map { .text($0) } ?? .null] },
                    truncated: false, elapsedMs: 0)
                print(try Output.render(result, as: format), terminator: "")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id.")
        @Argument(help: "The token's id (see 'dnnprov token list').") var id: Int64
        @OptionGroup var source: TokenSource

        func run() async throws {
            try await reportingErrors {
                let token = try await source.revoke(id)
                print("revoked token \(token.id) (\(token.name))")
            }
        }
    }
}

/// Where token commands act: the database file, or a server.
struct TokenSource: ParsableArguments {
    @Option(help: "Server URL (default: $DNNPROV_URL or http://localhost:22000); needs an admin token in $DNNPROV_TOKEN.") var url: String?
    @Option(help: "Act on this database directly (a SQLite file or a postgresql:// URL; a server may be running on it).") var db: String?

    func validate() throws {
        if url != nil && db != nil { throw ValidationError("give --url or --db, not both") }
    }

    func create(_ request: TokenRequest) async throws -> CreatedToken {
        if let db { return try await ProvStore.open(db, logger: .quiet).createToken(request) }
        return try await ServerClient(url: try ServerURL.checked(url)).createToken(request)
    }

    func list() async throws -> [APIToken] {
        if let db { return try await ProvStore.open(db, logger: .quiet).tokens() }
        return try await ServerClient(url: try ServerURL.checked(url)).tokens()
    }

    func revoke(_ id: Int64) async throws -> APIToken {
        if let db { return try await ProvStore.open(db, logger: .quiet).revokeToken(id: id) }
        return try await ServerClient(url: try ServerURL.checked(url)).revokeToken(id: id)
    }
}

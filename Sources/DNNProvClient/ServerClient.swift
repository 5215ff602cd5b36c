import AsyncHTTPClient
import DNNProvModel
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL

/// Reads from a running dnnprov server: queries and listings (what the CLI's `--url` uses).
public struct ServerClient: Sendable {
    /// The server URL requests are made against (without a DfAnalyzer-style `/t/<secret>`, which
    /// is sent as the Bearer token instead).
    public let baseURL: String
    let http: HTTPClient
    let token: String?
    /// The TLS settings for an `https` server with a CA file, or why that file cannot be used.
    let tls: Result<TLSConfiguration, CAFileError>?

    /// - Parameters:
    ///   - url: The server; defaults to `DNNPROV_URL`, then `http://localhost:22000`.
    ///   - token: Sent as `Authorization: Bearer <token>`; defaults to `DNNPROV_TOKEN`, then to a
    ///     token at the end of the URL's path (`.../t/<secret>/`).
    ///   - caFile: For `https`: a PEM file of the CA certificates to trust instead of the
    ///     system's (a private CA, or a self-signed certificate); defaults to `DNNPROV_CA_FILE`.
    ///   - httpClient: The HTTP client to use (its own TLS settings apply when there is no CA file).
    public init(url: String? = nil, token: String? = nil, caFile: String? = nil,
                httpClient: HTTPClient = ServerClient.defaultHTTPClient) {
        let env = ProcessInfo.processInfo.environment
        let (base, pathToken) = ServerAccess.splitPathToken(url ?? env["DNNPROV_URL"] ?? "http://localhost:22000")
        baseURL = base
        http = httpClient
        self.token = token ?? env["DNNPROV_TOKEN"].flatMap { $0.isEmpty ? nil : $0 } ?? pathToken
        tls = (caFile ?? env["DNNPROV_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 }).map { path in
            do {
                return .success(try ServerAccess.configuration(caFile: path))
            } catch let error as CAFileError {
                return .failure(error)
            } catch {
                return .failure(CAFileError(path: path, reason: "\(error)"))
            }
        }
    }

    public func query(_ sql: String, dataflow: String? = nil, limit: Int? = nil, timeoutMs: Int? = nil) async throws -> QueryResult {
        struct Body: Encodable {
            var sql: String
            var dataflow: String?
            var limit: Int?
            var timeout_ms: Int?
        }
        return try await send("POST", "/api/v1/query", body: Body(sql: sql, dataflow: dataflow, limit: limit, timeout_ms: timeoutMs))
    }

    public func dataflows() async throws -> [DataflowSummary] {
        try await send("GET", "/api/v1/dataflows", body: Optional<String>.none)
    }

    public func tasks(dataflow: String, execution: String? = nil) async throws -> [TaskSummary] {
        var path = "/api/v1/dataflows/\(Self.escape(dataflow))/tasks"
        if let execution { path += "?execution=\(Self.escape(execution))" }
        return try await send("GET", path, body: Optional<String>.none)
    }

    /// A client that gives up on a refused connection at once instead of retrying until the
    /// request's deadline: "server not running" must be a quick, clear error.
    public static let defaultHTTPClient: HTTPClient = {
        var config = HTTPClient.Configuration()
        config.timeout = .init(connect: .seconds(5))
        config.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
    }()

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlUnreservedCharacters) ?? s
    }

    func send<B: Encodable, R: Decodable>(_ method: String, _ path: String, body: B?) async throws -> R {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .init(rawValue: method)
        if let tls { request.tlsConfiguration = try tls.get() }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(300))
        } catch {
            throw ServerClientError.unreachable(url: ServerAccess.redact(baseURL), reason: ServerAccess.explain(error))
        }
        let data = Data(buffer: try await response.body.collect(upTo: 1 << 30))
        guard (200..<300).contains(response.status.code) else {
            let message = (try? JSONDecoder().decode(ErrorAnswer.self, from: data).error) ?? String(decoding: data, as: UTF8.self)
            throw ServerClientError.refused(status: Int(response.status.code), message: message)
        }
        return try JSONDecoder().decode(R.self, from: data)
    }
}


public enum ServerClientError: Error, CustomStringConvertible {
    case unreachable(url: String, reason: String)
    case refused(status: Int, message: String)

    public var description: String {
        switch self {
        case .unreachable(let url, let reason): return "cannot reach the dnnprov server at \(url) (\(reason)); start it with `dnnprov serve` or pass --url / --db"
        case .refused(let status, let message): return "\(message) (HTTP \(status))"
        }
    }
}

extension CharacterSet {
    static let urlUnreservedCharacters = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// A server's answer to one request.
public struct TransportResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// The response body (JSON for every dnnprov answer).
    public var body: [UInt8]
    /// How long the server asked the client to wait before sending again (`Retry-After`, sent
    /// with 429 and 503), already converted from delay-seconds or an HTTP date; `nil` when absent.
    public var retryAfter: Duration?

    /// - Parameters:
    ///   - status: The HTTP status code.
    ///   - body: The response body.
    ///   - retryAfter: The server's `Retry-After`, as a delay from now.
    public init(status: Int, body: [UInt8], retryAfter: Duration? = nil) {
        self.status = status
        self.body = body
        self.retryAfter = retryAfter
    }

    /// Reads a `Retry-After` header value (RFC 9110 §10.2.3): delay-seconds (`"1"`) or an HTTP
    /// date (`"Wed, 25 Nov 2026 10:00:00 GMT"`, also the obsolete RFC 850 and asctime forms).
    ///
    /// - Parameters:
    ///   - value: The header's value.
    ///   - now: The time a date is measured from.
    /// - Returns: The delay, never negative; `nil` when the value is neither form.
    public static func parseRetryAfter(_ value: String, now: Date = Date()) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text), seconds.isFinite {
            return .milliseconds(Int64((max(0, seconds) * 1000).rounded()))
        }
        // asctime pads one-digit days with a space: collapse runs of spaces first.
        let collapsed = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: collapsed) {
                let seconds = max(0, date.timeIntervalSince(now))
                return .milliseconds(Int64((seconds * 1000).rounded()))
            }
        }
        return nil
    }
}

/// How the sender delivers a request body. Blocking: it is only called from the sender thread,
/// one request at a time, which keeps the order of batches. Errors mean "not delivered, try
/// again later" (unreachable, reset, timeout). Tests substitute transports that fail on purpose.
public protocol BatchTransport: Sendable {
    /// Sends `body` to `path` (appended to the server URL) and returns the server's answer.
    func post(path: String, body: ArraySlice<UInt8>) throws -> TransportResponse
    /// Releases connections and threads; called once, when the client closes.
    func shutdown()
}

/// The CA file configured for HTTPS (`DNNPROV_CA_FILE`, `ClientConfiguration.caFile`) cannot be
/// used: missing, unreadable, or without a PEM certificate.
public struct CAFileError: Error, CustomStringConvertible, Sendable {
    /// The configured path.
    public var path: String
    /// What went wrong.
    public var reason: String

    public var description: String {
        "cannot load the CA file '\(path)' (DNNPROV_CA_FILE): \(reason); nothing can be sent over HTTPS until it is fixed"
    }
}

/// How the client reaches a server: TLS trust, the token in a DfAnalyzer-style URL, log-safe URLs.
enum ServerAccess {
    /// A client TLS configuration that trusts the certificates of `caFile` (a private CA, or a
    /// self-signed server certificate) instead of the system's roots. Read eagerly so that a bad
    /// file is reported as such, not as a handshake failure.
    static func configuration(caFile: String) throws -> TLSConfiguration {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(caFile)
        } catch {
            throw CAFileError(path: caFile, reason: "\(error)")
        }
        guard !certificates.isEmpty else { throw CAFileError(path: caFile, reason: "no PEM certificate in it") }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(certificates)
        return tls
    }

    /// A delivery error as logged, with what to configure when it is a certificate problem.
    static func explain(_ error: any Error) -> String {
        let text = "\(error)"
        if error is NIOSSLError || text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "\(text); if the server's certificate comes from a private CA or is self-signed, "
                + "set DNNPROV_CA_FILE (ClientConfiguration.caFile) to that CA's PEM file"
        }
        return text
    }

    /// Splits a DfAnalyzer-style URL, `http://host:22000/t/<secret>/`, into the URL to send
    /// requests to and the secret: the server accepts the path form on the DfAnalyzer routes
    /// only, so for `/api/v1` the secret must travel as a Bearer header. Any other path prefix (a
    /// reverse proxy's) is kept; the trailing slash is dropped.
    static func splitPathToken(_ url: String) -> (url: String, token: String?) {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        guard var parts = URLComponents(string: base), parts.host != nil else { return (base, nil) }
        let path = parts.percentEncodedPath
        guard let slash = path.range(of: "/t/", options: .backwards) else { return (base, nil) }
        let secret = path[slash.upperBound...]
        guard !secret.isEmpty, !secret.contains("/") else { return (base, nil) }
        parts.percentEncodedPath = String(path[..<slash.lowerBound])
        return (parts.string ?? base, secret.removingPercentEncoding ?? String(secret))
    }

    /// The URL with a DfAnalyzer-style `/t/<secret>` path token hidden, for log messages.
    static func redact(_ url: String) -> String {
        guard let range = url.range(of: "/t/") else { return url }
        let rest = url[range.upperBound...]
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        return url.replacingCharacters(in: range.upperBound..<end, with: "***")
    }
}

/// HTTP/1.1 over one kept-alive connection (AsyncHTTPClient, its own connection pool so that many
/// clients in one process do not queue behind each other).
public final class HTTPTransport: BatchTransport {
    private let client: HTTPClient
    private let baseURL: String
    private let headers: HTTPHeaders
    private let timeout: TimeAmount
    /// Why no request can succeed (an unusable CA file); thrown by every `post`.
    private let setupError: (any Error)?

    /// - Parameters:
    ///   - url: The server, e.g. `https://prov.example:22000`. A DfAnalyzer-style token at the
    ///     end of its path (`.../t/<secret>/`) is sent as the Bearer token when `token` is nil.
    ///   - token: Sent as `Authorization: Bearer <token>` when set.
    ///   - caFile: A PEM file of the CA certificates to trust for `https` instead of the system's
    ///     (a private CA, or the server's self-signed certificate).
    ///   - timeout: Per request.
    public init(url: String, token: String?, caFile: String? = nil, timeout: Duration) {
        var config = HTTPClient.Configuration()
        // Short connect timeout: AsyncHTTPClient retries refused connections until it expires,
        // and an unreachable server should send data to the spool quickly.
        config.timeout = .init(connect: .seconds(1), read: .nanoseconds(Int64(timeout.seconds * 1e9)))
        config.httpVersion = .http1Only
        config.decompression = .disabled
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 2)
        var setupError: (any Error)?
        if let caFile {
            // Never thrown from here: the client is created by the training program, which must
            // not fail because of provenance; every delivery reports the error instead.
            do { config.tlsConfiguration = try ServerAccess.configuration(caFile: caFile) } catch { setupError = error }
        }
        self.setupError = setupError
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        // An explicit token wins over one in the URL's path (as DNNPROV_TOKEN does in Python).
        let (base, pathToken) = ServerAccess.splitPathToken(url)
        baseURL = base
        var h = HTTPHeaders()
        h.add(name: "Content-Type", value: "application/json")
        h.add(name: "Accept", value: "application/json")
        if let token = token ?? pathToken { h.add(name: "Authorization", value: "Bearer \(token)") }
        headers = h
        self.timeout = .nanoseconds(Int64(timeout.seconds * 1e9))
    }

    public func post(path: String, body: ArraySlice<UInt8>) throws -> TransportResponse {
        if let setupError { throw setupError }
        let request = try HTTPClient.Request(
            url: baseURL + path, method: .POST, headers: headers, body: .byteBuffer(ByteBuffer(bytes: body)))
        let response = try client.execute(request: request, deadline: .now() + timeout).wait()
        let bytes = response.body.map { Array($0.readableBytesView) } ?? []
        let retryAfter = response.headers.first(name: "Retry-After").flatMap { TransportResponse.parseRetryAfter($0) }
        return TransportResponse(status: Int(response.status.code), body: bytes, retryAfter: retryAfter)
    }

    public func shutdown() {
        try? client.syncShutdown()
    }
}

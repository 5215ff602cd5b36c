import DNNProvModel
import HTTPTypes
import Hummingbird

/// Refuses requests a web page in the user's browser made to this server. Browsers send
/// `Origin` on every cross-origin POST (a `text/plain` form post needs no CORS preflight) and
/// `Sec-Fetch-Site` on everything; dnnprov's clients send neither. A request whose origin is not
/// the server's own is refused before any handler runs. No CORS headers are ever sent, so other
/// pages cannot read answers either.
///
/// When the server listens on loopback without auth, the `Host` must name a loopback address
/// too: a DNS-rebinding page (evil.example resolved to 127.0.0.1) sends its own name as both
/// Origin and Host, which would otherwise look same-origin.
struct OriginCheckMiddleware<Context: RequestContext>: RouterMiddleware {
    let requireLoopbackHost: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let host = request.head.authority
        if requireLoopbackHost, let host, !Self.isLoopbackAuthority(host) {
            throw ProvError.forbidden("requests must name this machine as their Host (\(host.clipped(to: 60)) was given); use --host to serve another address")
        }
        if let origin = request.headers[.origin] {
            guard let host, Self.originHost(origin) == host.lowercased() else {
                throw ProvError.forbidden("cross-origin request refused: web pages from other sites may not use this server")
            }
        } else if request.headers[values: HTTPField.Name("Sec-Fetch-Site")!].contains("cross-site") {
            throw ProvError.forbidden("cross-origin request refused: web pages from other sites may not use this server")
        }
        return try await next(request, context)
    }

    /// `http://host:port` -> `host:port` (lower case); nil for `null` or anything unparsable.
    static func originHost(_ origin: String) -> String? {
        let o = origin.lowercased()
        for scheme in ["http://", "https://"] where o.hasPrefix(scheme) {
            let rest = o.dropFirst(scheme.count)
            return rest.isEmpty || rest.contains("/") ? nil : String(rest)
        }
        return nil
    }

    static func isLoopbackAuthority(_ authority: String) -> Bool {
        var host = authority.lowercased()
        if host.hasPrefix("[") {
            host = String(host.dropFirst().prefix { $0 != "]" })
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        return ServerConfiguration.isLoopback(host)
    }
}

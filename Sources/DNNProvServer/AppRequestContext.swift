import Hummingbird
import NIOCore

/// The request context of every route: who sent the request (set by `AuthMiddleware`) and from
/// where. The upload limit is the framework's ceiling; each write route collects its body up to
/// the configured `Limits.maxBodyBytes`.
public struct AppRequestContext: RequestContext {
    public static let maxBodySize = 1 << 30

    public var coreContext: CoreRequestContextStorage
    public var maxUploadSize: Int { Self.maxBodySize }
    /// Set by `AuthMiddleware` on every route behind it.
    public var principal: Principal?
    /// The peer's address (without port): the per-client key of query limits when auth is off.
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The principal, or a refusal when a route was mounted without `AuthMiddleware`.
    public func requirePrincipal() throws -> Principal {
        guard let principal else { throw HTTPError(.unauthorized) }
        return principal
    }
}

import Hummingbird

/// The request context of every route. Batches of epoch rows are larger than Hummingbird's
/// default 2 MiB upload limit, so the limit is raised; past it the answer is 413.
public struct AppRequestContext: RequestContext {
    public static let maxBodySize = 32 * 1024 * 1024

    public var coreContext: CoreRequestContextStorage
    public var maxUploadSize: Int { Self.maxBodySize }

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}

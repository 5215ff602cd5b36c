import DNNProvStore
import Hummingbird
import Logging
import ServiceLifecycle

/// What `dnnprov serve` is configured with.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var databasePath: String
    public var logLevel: Logger.Level

    public init(host: String = "127.0.0.1", port: Int = 22000, databasePath: String = "dnnprov.sqlite", logLevel: Logger.Level = .info) {
        self.host = host
        self.port = port
        self.databasePath = databasePath
        self.logLevel = logLevel
    }
}

/// The composition root: the store, the router, the application. Tests build the same thing.
public func buildApplication(_ config: ServerConfiguration) throws -> some ApplicationProtocol {
    var logger = Logger(label: "dnnprov")
    logger.logLevel = config.logLevel
    let store = try ProvStore(path: config.databasePath, logger: logger)
    return buildApplication(store: store, host: config.host, port: config.port, logger: logger)
}

public func buildApplication(store: ProvStore, host: String = "127.0.0.1", port: Int = 0, logger: Logger = Logger(label: "dnnprov")) -> some ApplicationProtocol {
    Application(
        router: buildRouter(store: store),
        configuration: .init(address: .hostname(host, port: port), serverName: "dnnprov"),
        services: [StoreService(store: store)],
        logger: logger)
}

public func buildRouter(store: ProvStore) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.addMiddleware {
        LogRequestsMiddleware(.debug)
        ErrorMiddleware()
    }
    HealthController(store: store).addRoutes(to: router)
    DfAnalyzerController(store: store).addRoutes(to: router)
    DataflowController(store: store).addRoutes(to: router)
    BatchController(store: store).addRoutes(to: router)
    QueryController(store: store).addRoutes(to: router)
    return router
}

/// Closes the store when the server shuts down, after the writes under way are committed.
struct StoreService: Service {
    let store: ProvStore

    func run() async throws {
        try? await gracefulShutdown()
        store.close()
    }
}

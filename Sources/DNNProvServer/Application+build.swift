import DNNProvModel
import DNNProvPostgres
import DNNProvStore
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceLifecycle

/// The composition root: the store, the router, the application. Tests build the same thing.
public func buildApplication(_ config: ServerConfiguration) throws -> some ApplicationProtocol {
    var logger = Logger(label: "dnnprov")
    logger.logLevel = config.logLevel
    let store = try ProvStore.open(config.databasePath, queryDatabase: config.queryDatabase, queryPool: config.queryPool, logger: logger)
    return try buildApplication(store: store, configuration: config, logger: logger)
}

/// The application over an opened store: what `dnnprov serve` runs and what tests start.
public func buildApplication(store: ProvStore, configuration config: ServerConfiguration = .init(port: 0),
                             logger: Logger = Logger(label: "dnnprov")) throws -> some ApplicationProtocol {
    let server: HTTPServerBuilder
    if let tls = config.tls {
        var tlsConfiguration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.privateKey, format: .pem)))
        tlsConfiguration.minimumTLSVersion = .tlsv12
        server = try .tls(.http1(), tlsConfiguration: tlsConfiguration)
    } else {
        server = .http1()
    }
    let reporter = IngestReporter(logger: logger, interval: config.ingestLogInterval)
    var app = Application(
        router: buildRouter(store: store, configuration: config, reporter: reporter),
        server: server,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "dnnprov"),
        services: [StoreService(store: store), reporter, LiveKeepAlive(feed: store.feed)],
        logger: logger)
    let ui = UIFiles(configured: config.uiDirectory)
    app.beforeServerStarts {
        let hasTokens = (try? await store.hasTokens()) ?? false
        logger.notice("\(describeAccess(config, hasTokens: hasTokens))")
        if ui.root != nil {
            logger.notice("web UI: \(config.tls == nil ? "http" : "https")://\(config.host):\(config.port)/")
        } else {
            logger.warning("the web UI's files were not found (looked in \(ui.searched.joined(separator: ", "))); / answers 503: install with scripts/install or pass --ui-dir")
        }
    }
    return app
}

/// The line the server says at start about who may use it.
func describeAccess(_ config: ServerConfiguration, hasTokens: Bool) -> String {
    let scheme = config.tls == nil ? "http" : "https"
    switch config.auth {
    case .off:
        return "auth off: anyone who can connect to \(scheme)://\(config.host):\(config.port) can read and write"
    case .required:
        return hasTokens
            ? "tokens required on \(scheme)://\(config.host):\(config.port)"
            : "tokens required on \(scheme)://\(config.host):\(config.port), and none exists yet: create one with 'dnnprov token create --role admin --db \(config.databasePath)'"
    }
}

/// Every route, in groups whose middleware does the cross-cutting work: errors and the origin
/// check for all; auth on `/api/v1` and the DfAnalyzer paths; roles on the groups inside them.
/// `reporter`: what the write routes feed with what they stored (the per-minute log line).
public func buildRouter(store: ProvStore, configuration config: ServerConfiguration = .init(),
                        reporter: IngestReporter? = nil) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.addMiddleware {
        LogRequestsMiddleware(.debug)
        ErrorMiddleware()
        OriginCheckMiddleware(requireLoopbackHost: config.auth == .off && ServerConfiguration.isLoopback(config.host))
    }
    let authenticator = config.auth == .required ? Authenticator(store: store) : nil
    let auth = AuthMiddleware(authenticator: authenticator)
    let gate = AdmissionGate(limit: config.ingestConcurrency, maxWaiting: config.ingestQueue)

    // Public: liveness, the API description, the UI's sign-in.
    HealthController(store: store).addRoutes(to: router)
    OpenAPIController().addRoutes(to: router)
    LoginController(authenticator: authenticator, secure: config.tls != nil).addRoutes(to: router)
    UIController(files: UIFiles(configured: config.uiDirectory)).addRoutes(to: router)

    let api = router.group("api/v1").add(middleware: auth)
    let readers = api.group().add(middleware: RequireRoleMiddleware(role: .reader))
    let writers = api.group().add(middleware: RequireRoleMiddleware(role: .writer)).add(middleware: AdmissionMiddleware(gate: gate))
    let admins = api.group().add(middleware: RequireRoleMiddleware(role: .admin))
    DataflowController(store: store, limits: config.limits).addRoutes(writers: writers, readers: readers)
    BatchController(store: store, limits: config.limits, reporter: reporter).addRoutes(to: writers)
    RunsController(store: store, staleAfter: Double(config.staleAfter.components.seconds)).addRoutes(to: readers)
    ChartsController(store: store).addRoutes(readers: readers, writers: writers)
    ProvController(store: store, limits: config.limits).addRoutes(readers: readers, writers: writers)
    // One limiter for every query route: a client's SQL and DfAnalyzer queries count together.
    let queries = QueryRunner(store: store, limiter: ClientLimiter(limit: config.queriesPerClient), maxResultBytes: config.maxResultBytes)
    QueryController(runner: queries).addRoutes(to: readers)
    TokenController(store: store, authenticator: authenticator).addRoutes(to: admins)

    // DfAnalyzer's routes, at the root and under /t/{token} for clients that can only be given a URL.
    let dfanalyzerRoots = [router.group().add(middleware: auth), router.group("t/:token").add(middleware: auth)]
    let dfanalyzer = DfAnalyzerController(store: store, limits: config.limits, gate: gate, reporter: reporter)
    for root in dfanalyzerRoots { dfanalyzer.addRoutes(to: root) }
    DfQueryController(store: store, runner: queries).addRoutes(to: readers, dfanalyzer: dfanalyzerRoots)
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

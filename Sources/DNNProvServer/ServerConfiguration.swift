import DNNProvModel
import DNNProvStore
import Logging

/// What `dnnprov serve` is configured with.
public struct ServerConfiguration: Sendable {
    /// Whether requests need a token.
    public enum Auth: Sendable, Equatable {
        /// Every request is allowed (the default on a loopback address).
        case off
        /// Every request but `/health`, `/openapi.json` and the login page needs a token.
        case required
    }

    /// A certificate chain and private key in PEM files, for HTTPS.
    public struct TLSFiles: Sendable, Equatable {
        public var certificate: String
        public var privateKey: String
        public init(certificate: String, privateKey: String) {
            self.certificate = certificate
            self.privateKey = privateKey
        }
    }

    public var host: String
    public var port: Int
    /// A SQLite file, or a `postgresql://` URL.
    public var databasePath: String
    /// Where user queries run, when not on `databasePath` (a PostgreSQL read replica).
    public var queryDatabase: String?
    public var logLevel: Logger.Level
    public var auth: Auth
    public var tls: TLSFiles?
    public var limits: Limits
    public var queryPool: QueryPoolConfiguration
    /// User queries one client (token, or address without auth) may run at once.
    public var queriesPerClient: Int
    /// The most bytes of values one query answer holds.
    public var maxResultBytes: Int
    /// Write requests decoded at once, and how many more may wait before the answer is 429.
    public var ingestConcurrency: Int
    public var ingestQueue: Int
    /// How often the server logs what it stored (when it stored anything).
    public var ingestLogInterval: Duration
    /// Where the web UI's files are (`ui/` of the source tree by default; see `UIFiles`).
    public var uiDirectory: String?
    /// A running run that has sent nothing for this long is shown as stale.
    public var staleAfter: Duration

    public init(host: String = "127.0.0.1", port: Int = 22000, databasePath: String = "dnnprov.sqlite",
                logLevel: Logger.Level = .info, auth: Auth = .off, tls: TLSFiles? = nil, limits: Limits = .init(),
                queryPool: QueryPoolConfiguration = .init(), queriesPerClient: Int = 2, maxResultBytes: Int = 16 << 20,
                ingestConcurrency: Int = 8, ingestQueue: Int = 64, ingestLogInterval: Duration = .seconds(60),
                uiDirectory: String? = nil, staleAfter: Duration = .seconds(300), queryDatabase: String? = nil) {
        self.queryDatabase = queryDatabase
        self.host = host
        self.port = port
        self.databasePath = databasePath
        self.logLevel = logLevel
        self.auth = auth
        self.tls = tls
        self.limits = limits
        self.queryPool = queryPool
        self.queriesPerClient = queriesPerClient
        self.maxResultBytes = maxResultBytes
        self.ingestConcurrency = ingestConcurrency
        self.ingestQueue = ingestQueue
        self.ingestLogInterval = ingestLogInterval
        self.uiDirectory = uiDirectory
        self.staleAfter = staleAfter
    }

    /// Whether `host` only accepts connections from this machine.
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased()
        return h == "localhost" || h == "::1" || h == "[::1]" || h.hasPrefix("127.")
    }
}

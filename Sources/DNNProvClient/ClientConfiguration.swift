import Foundation
import Logging

/// How a `ProvenanceClient` reaches the server, batches and keeps what it could not deliver.
public struct ClientConfiguration: Sendable {
    /// The server, e.g. `http://localhost:22000` (`DNNPROV_URL`).
    public var url: String
    /// Sent as `Authorization: Bearer <token>` when set (`DNNPROV_TOKEN`).
    public var token: String?
    /// For an `https` server: a PEM file of the CA certificates to trust instead of the system's,
    /// e.g. a private CA or the server's self-signed certificate (`DNNPROV_CA_FILE`).
    public var caFile: String?
    /// A batch is sent when it holds this many events...
    public var batchSize: Int
    /// ...or when its first event has waited this long.
    public var batchInterval: Duration
    /// Events kept in memory at most; past this the buffer is written to the spool (never dropped).
    public var maxBufferedEvents: Int
    /// Where undelivered batches wait (JSON lines, one file per client instance).
    public var spoolDirectory: String
    /// Replay the spool files of clients of the same server that are gone (crashed processes).
    public var adoptOrphanSpools: Bool
    /// Per request.
    public var requestTimeout: Duration
    /// Retry delays after a failed delivery: doubling from `initialBackoff` up to `maxBackoff`.
    public var initialBackoff: Duration
    /// The longest of those retry delays.
    public var maxBackoff: Duration
    /// The longest wait a busy server's `Retry-After` (with 429 or 503) can impose; the sender
    /// waits at least that long otherwise, with the data kept in the spool.
    public var maxRetryAfter: Duration
    public var logger: Logger
    /// Called on the sender thread after each acknowledged batch. Keep it short.
    public var onBatchAcknowledged: (@Sendable (BatchAcknowledgement) -> Void)?

    public init(
        url: String? = nil, token: String? = nil, caFile: String? = nil, batchSize: Int = 1000, batchInterval: Duration = .milliseconds(100),
        maxBufferedEvents: Int = 100_000, spoolDirectory: String? = nil, adoptOrphanSpools: Bool = true,
        requestTimeout: Duration = .seconds(30), initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(5),
        maxRetryAfter: Duration = .seconds(60),
        logger: Logger = Logger(label: "dnnprov.client"),
        onBatchAcknowledged: (@Sendable (BatchAcknowledgement) -> Void)? = nil
    ) {
        let env = ProcessInfo.processInfo.environment
        var base = url ?? env["DNNPROV_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://localhost:22000"
        while base.hasSuffix("/") { base.removeLast() }
        self.url = base
        self.token = token ?? env["DNNPROV_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        self.caFile = caFile ?? env["DNNPROV_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        self.batchSize = max(1, batchSize)
        self.batchInterval = batchInterval
        self.maxBufferedEvents = max(self.batchSize, maxBufferedEvents)
        self.spoolDirectory = spoolDirectory ?? Self.defaultSpoolDirectory()
        self.adoptOrphanSpools = adoptOrphanSpools
        self.requestTimeout = requestTimeout
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.maxRetryAfter = maxRetryAfter
        self.logger = logger
        self.onBatchAcknowledged = onBatchAcknowledged
    }

    /// `$XDG_CACHE_HOME/dnnprov/spool`, else `~/.cache/dnnprov/spool`.
    public static func defaultSpoolDirectory() -> String {
        let env = ProcessInfo.processInfo.environment
        let cache = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache")
        return ((cache as NSString).appendingPathComponent("dnnprov") as NSString).appendingPathComponent("spool")
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

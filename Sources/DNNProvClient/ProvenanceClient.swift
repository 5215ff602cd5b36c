import DNNProvModel
import Foundation
import Logging

/// The capture client: registers dataflows and sends task events without ever blocking the
/// caller on the network.
///
///     let client = ProvenanceClient()                       // DNNPROV_URL, DNNPROV_TOKEN
///     client.register(DataflowBuilder.predefined("alexnet"))
///     let run = client.execution(dataflow: "alexnet")
///     let train = run.task("trainingmodel")
///     train.begin()
///     train.save(set: "otrainingmodel", row: [...])          // per epoch: a lock and an append
///     train.end()
///     client.close()                                          // flushes (bounded wait)
///
/// Everything goes through one ordered queue, so a dataflow is registered before the events
/// that follow it. A background thread batches events (by size and by time), delivers them,
/// and keeps what it cannot deliver in a spool file that is replayed, in order, once the server
/// answers. Each event carries the idempotency key `<client id>-<sequence>`, so a replayed batch
/// is stored once.
public final class ProvenanceClient: Sendable {
    public let configuration: ClientConfiguration
    /// A random UUID: the prefix of this client's idempotency keys.
    public let id: String
    let queue: EventQueue
    private let spool: Spool
    private let sender: Sender
    private let transport: any BatchTransport
    private let closed = LockedFlag()

    public convenience init(configuration: ClientConfiguration = ClientConfiguration()) {
        self.init(configuration: configuration,
                  transport: HTTPTransport(url: configuration.url, token: configuration.token, caFile: configuration.caFile,
                                           timeout: configuration.requestTimeout))
    }

    /// With a transport of your own (tests use this to lose acknowledgements on purpose).
    public init(configuration: ClientConfiguration, transport: any BatchTransport) {
        self.configuration = configuration
        let id = UUID().uuidString.lowercased()
        self.id = id
        self.transport = transport
        let spool = Spool(directory: configuration.spoolDirectory, serverURL: configuration.url, clientID: id, logger: configuration.logger)
        self.spool = spool
        let batchSize = configuration.batchSize
        queue = EventQueue(batchSize: batchSize, maxBuffered: configuration.maxBufferedEvents, spool: spool) { items, base in
            Record.encode(items, base: base, clientID: id, batchSize: batchSize)
        }
        if configuration.adoptOrphanSpools { spool.adoptOrphans() }
        sender = Sender(queue: queue, spool: spool, transport: transport, config: configuration, clientID: id)
        sender.start()
    }

    deinit {
        close(timeout: .seconds(5))
    }

    // MARK: capture

    /// Registers (or extends) a dataflow, ahead of every event enqueued after this call.
    public func register(_ spec: DataflowSpec) {
        queue.append(.dataflow(spec))
    }

    public func register(_ builder: DataflowBuilder) {
        register(builder.spec)
    }

    /// Hands an event to the sender. Never blocks on the network and never throws.
    @inline(__always)
    public func enqueue(_ event: TaskEvent) {
        queue.append(.event(event))
    }

    /// Starts an execution (one run of the program) of `dataflow`. `name` defaults to
    /// `<dataflow>-<ISO time>-<pid>-<random>`.
    public func execution(dataflow: String, name: String? = nil, info: ExecutionInfo? = .current) -> Execution {
        Execution(client: self, dataflow: dataflow, name: name ?? Execution.makeName(dataflow: dataflow), info: info)
    }

    // MARK: delivery

    /// Sends what is buffered now and waits until everything enqueued so far is acknowledged.
    /// False when the timeout passed first (the rest stays queued or spooled, not lost).
    @discardableResult
    public func flush(timeout: Duration = .seconds(30)) -> Bool {
        queue.flush(timeout: timeout.seconds)
    }

    /// Flushes (waiting at most `timeout`), then stops the sender; what is still undelivered is
    /// left in the spool for the next client of this server. Later events go to the spool.
    public func close(timeout: Duration = .seconds(30)) {
        guard closed.setOnce() else { return }
        flush(timeout: timeout)
        queue.close()
        if !sender.join(timeout: configuration.requestTimeout.seconds + 5) {
            configuration.logger.warning("dnnprov: the sender did not stop in time; undelivered data stays in \(spool.path)")
        }
        queue.spiller.stop()
        transport.shutdown()
        spool.close()
    }

    /// What the client has done so far.
    public var stats: ClientStats {
        var s = sender.snapshot
        s.eventsEnqueued = queue.enqueued
        s.recordsSpooled = spool.written
        return s
    }

    /// Items enqueued and not yet acknowledged (buffered, in flight or spooled). Cheap; a load
    /// generator can use it for flow control.
    public var undelivered: Int { queue.undelivered }

    /// Records waiting in the spool file.
    public var spooledRecords: Int { spool.count }

    /// The spool file of this client (it exists only while something is undelivered).
    public var spoolPath: String { spool.path }
}

/// A flag that is set once, from any thread.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    /// Sets the flag; true when this call set it.
    func setOnce() -> Bool {
        lock.lock(); defer { lock.unlock() }
        if value { return false }
        value = true
        return true
    }
}

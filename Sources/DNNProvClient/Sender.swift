import Foundation
import Logging

/// The background sender: one thread that takes the buffered items, encodes them into batches,
/// and delivers them in order: the spool first (oldest data), then the new batches. A batch that
/// cannot be delivered goes to the spool and is retried with capped exponential backoff.
///
/// A dedicated thread rather than a Swift task: capture must keep working when the training
/// program saturates or blocks the cooperative thread pool, and blocking one thread on each
/// request is the simplest way to keep batches strictly ordered.
final class Sender: @unchecked Sendable {
    private let queue: EventQueue
    private let spool: Spool
    private let transport: any BatchTransport
    private let config: ClientConfiguration
    private let clientID: String
    private let logger: Logger
    private let statsLock = NSLock()
    private var stats = ClientStats()
    private let finished = NSCondition()
    private var isFinished = false
    private var backoff: Double = 0
    private var nextAttempt: Date?
    /// The `Retry-After` of the last busy answer (capped), applied by the next `failed()`.
    private var serverDelay: Double?
    /// 401/403 statuses already logged: every request gets the same answer, one line is enough.
    private var authRefusalsLogged: Set<Int> = []

    init(queue: EventQueue, spool: Spool, transport: any BatchTransport, config: ClientConfiguration, clientID: String) {
        self.queue = queue
        self.spool = spool
        self.transport = transport
        self.config = config
        self.clientID = clientID
        self.logger = config.logger
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "dnnprov-sender"
        thread.start()
    }

    /// Waits for the thread to finish its last round (after `queue.close()`).
    func join(timeout: Double) -> Bool {
        let end = Date(timeIntervalSinceNow: timeout)
        finished.lock(); defer { finished.unlock() }
        while !isFinished {
            if !finished.wait(until: end) { return isFinished }
        }
        return true
    }

    var snapshot: ClientStats {
        statsLock.lock(); defer { statsLock.unlock() }
        return stats
    }

    private func updateStats(_ body: (inout ClientStats) -> Void) {
        statsLock.lock()
        body(&stats)
        statsLock.unlock()
    }

    // MARK: the loop

    private func run() {
        while true {
            let retryAt = spool.isEmpty ? nil : (nextAttempt ?? Date())
            let (items, base, closing) = queue.take(interval: config.batchInterval.seconds, deadline: retryAt)
            // Older items on their way to the spool must be there before anything newer is sent.
            queue.spiller.waitIdle()
            if !spool.isEmpty, Date() >= (nextAttempt ?? .distantPast), !(closing && nextAttempt != nil) {
                replaySpool()
            }
            if !items.isEmpty {
                let records = Record.encode(items, base: base, clientID: clientID, batchSize: config.batchSize)
                queue.recycle(items)
                send(records, closing: closing)
            }
            if closing && queue.isEmpty { break }
        }
        finished.lock()
        isFinished = true
        finished.broadcast()
        finished.unlock()
    }

    private func send(_ records: [Record], closing: Bool) {
        for (i, r) in records.enumerated() {
            // While older data waits in the spool (or the server just failed, or asked us to wait),
            // newer data joins it.
            if !spool.isEmpty || (closing && nextAttempt != nil) || Date() < (nextAttempt ?? .distantPast) {
                toSpool(Array(records[i...]))
                return
            }
            if case .retry(let rest) = deliver(r) {
                toSpool([rest] + records[(i + 1)...])
                failed()
                return
            }
            queue.markDelivered(through: r.last)
        }
    }

    private func replaySpool() {
        while let (entry, record) = spool.first() {
            if case .retry = deliver(record) {
                failed()
                return
            }
            spool.remove(entry)
            queue.markDelivered(through: record.last)
        }
        succeeded()
    }

    private func toSpool(_ records: [Record]) {
        if !spool.append(records) {
            logger.error("dnnprov: \(records.reduce(0) { $0 + $1.events }) event(s) could not be spooled and are lost")
        }
    }

    private func failed() {
        backoff = backoff == 0 ? config.initialBackoff.seconds : min(backoff * 2, config.maxBackoff.seconds)
        // A busy server's Retry-After is a floor, not a hint: coming back sooner only earns
        // another 429 and adds to its load. The data waits in the spool meanwhile.
        nextAttempt = Date(timeIntervalSinceNow: max(backoff, serverDelay ?? 0))
        serverDelay = nil
        updateStats { $0.deliveryFailures += 1 }
    }

    private func succeeded() {
        if nextAttempt != nil { logger.info("dnnprov: the server answers again; the spool is delivered") }
        backoff = 0
        nextAttempt = nil
    }

    // MARK: one record

    enum Outcome {
        case done
        /// Not delivered; keep this (possibly trimmed) record for later.
        case retry(Record)
    }

    /// Sends one record until it is acknowledged or refused for good (`done`; the caller then
    /// marks it delivered) or cannot be delivered now (`retry`).
    private func deliver(_ record: Record) -> Outcome {
        var r = record
        while true {
            let start = ContinuousClock.now
            let response: TransportResponse
            do {
                response = try transport.post(path: r.path, body: r.body)
            } catch {
                if nextAttempt == nil {
                    logger.warning("dnnprov: cannot reach \(ServerAccess.redact(config.url)): \(ServerAccess.explain(error)); spooling to \(spool.path)")
                }
                return .retry(r)
            }
            let latency = (ContinuousClock.now - start).seconds
            switch response.status {
            case 200..<300:
                acknowledged(r, response, latency: latency)
                return .done
            case 413:
                guard let halves = r.halves() else { return dropped(r, response) }
                for (k, h) in halves.enumerated() {
                    if case .retry(let rest) = deliver(h) { return .retry(k == 0 ? r : rest) }
                }
                return .done
            case 401 where Self.errorAnswer(response).event == nil, 403 where Self.errorAnswer(response).event == nil:
                // Not allowed (no token, a wrong one, a role too low): the data is the user's,
                // so it stays in the spool for a run or a replay with the right token.
                if authRefusalsLogged.insert(response.status).inserted {
                    let hint = response.status == 401
                        ? "set DNNPROV_TOKEN (ClientConfiguration.token) to a writer token"
                        : "the token's role or dataflows do not allow this"
                    logger.error("dnnprov: the server refused the data (HTTP \(response.status): \(Self.message(response))); \(hint). It is kept in the spool (\(spool.path)) and sent once the server accepts it; further refusals are not logged again")
                }
                return .retry(r)
            case 408, 429, 500...:
                if let wait = response.retryAfter, response.status == 429 || response.status == 503 {
                    serverDelay = min(wait.seconds, config.maxRetryAfter.seconds)
                }
                if nextAttempt == nil {
                    let delay = serverDelay.map { String(format: "; waiting %.1fs as it asks (Retry-After)", $0) } ?? ""
                    logger.warning("dnnprov: the server answered \(response.status) (\(Self.message(response))); will retry\(delay)")
                }
                return .retry(r)
            default:
                // Not a dnnprov refusal (another service on that port, a proxy's 404): the data
                // stays in the spool, as for a server that is down.
                guard (try? JSONDecoder().decode(ErrorAnswer.self, from: Data(response.body))) != nil else {
                    if nextAttempt == nil {
                        logger.warning("dnnprov: \(ServerAccess.redact(config.url)) does not answer like a dnnprov server (HTTP \(response.status)); spooling to \(spool.path)")
                    }
                    return .retry(r)
                }
                let answer = Self.errorAnswer(response)
                if r.kind == .batch, let i = answer.event {
                    logger.warning("dnnprov: the server refused event \(i) of a batch (HTTP \(response.status): \(answer.error)); dropping it and resending the rest")
                    updateStats { $0.eventsDropped += 1 }
                    guard let rest = r.dropping(event: i) else { return .done }
                    r = rest
                    continue
                }
                return dropped(r, response)
            }
        }
    }

    private func dropped(_ r: Record, _ response: TransportResponse) -> Outcome {
        let what = r.kind == .batch ? "a batch of \(r.events) event(s)" : "a dataflow registration"
        updateStats { $0.eventsDropped += r.events }
        logger.error("dnnprov: the server refused \(what) (HTTP \(response.status): \(Self.message(response))); dropped")
        return .done
    }

    private func acknowledged(_ r: Record, _ response: TransportResponse, latency: Double) {
        var ack = BatchAcknowledgement(events: r.events, values: r.values, duplicates: 0, latency: latency)
        if r.kind == .batch, let answer = try? JSONDecoder().decode(IngestResult.self, from: Data(response.body)) {
            ack.events = answer.stored + answer.duplicates
            ack.duplicates = answer.duplicates
        }
        updateStats { s in
            if r.kind == .dataflow {
                s.dataflowsRegistered += 1
                return
            }
            s.batchesAcknowledged += 1
            s.eventsAcknowledged += ack.events
            s.duplicates += ack.duplicates
            s.valuesAcknowledged += ack.values
            if s.acknowledgementLatencies.count >= 100_000 { s.acknowledgementLatencies.removeFirst(50_000) }
            s.acknowledgementLatencies.append(latency)
        }
        if r.kind == .batch { config.onBatchAcknowledged?(ack) }
    }

    private static func errorAnswer(_ response: TransportResponse) -> ErrorAnswer {
        (try? JSONDecoder().decode(ErrorAnswer.self, from: Data(response.body)))
            ?? ErrorAnswer(error: String(decoding: response.body.prefix(300), as: UTF8.self), event: nil)
    }

    private static func message(_ response: TransportResponse) -> String { errorAnswer(response).error }
}

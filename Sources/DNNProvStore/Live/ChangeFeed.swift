import DNNProvModel
import NIOConcurrencyHelpers

/// The live stream behind `GET /api/v1/dataflows/{tag}/live`: the writer publishes each commit's
/// events once, and every subscriber of that dataflow gets them; nobody polls. Recent events are
/// kept, so a client that reconnects with the last id it saw catches up; one that was away too
/// long (or whose position predates this process) gets `reset` and reloads.
public final class ChangeFeed: Sendable {
    /// What a subscriber receives: events, and keep-alives to hold idle connections open.
    public enum Item: Sendable {
        case event(LiveEvent)
        case keepAlive
    }

    /// One follower's stream; `end()` closes it (the server shutting down, say).
    public struct Subscription: Sendable {
        public let items: AsyncStream<Item>
        let continuation: AsyncStream<Item>.Continuation

        public func end() { continuation.finish() }
    }

    private struct Subscriber {
        var dataflowID: Int64
        var continuation: AsyncStream<Item>.Continuation
    }

    private struct State {
        var recent: [LiveEvent] = []
        /// Events up to this one are no longer in `recent` (or happened before this process).
        var forgottenUpTo: Int64
        var lastSeq: Int64
        var subscribers: [Int: Subscriber] = [:]
        /// Dataflows a page is about to follow (it read the runs or series): until when.
        var watched: [Int64: ContinuousClock.Instant] = [:]
        var nextID = 0
        var finished = false
    }

    /// How many recent events are kept for clients that reconnect.
    public let capacity: Int
    /// The most subscribers at once; past it, subscribing is refused.
    public let maxSubscribers: Int
    /// Events one subscriber may have waiting; a client that reads slower is disconnected (it
    /// reconnects and catches up from `recent`).
    public static let subscriberBuffer = 4096
    private let state: NIOLockedValueBox<State>

    /// Called with a dataflow someone starts to follow or read (the PostgreSQL backend tells the
    /// other servers, whose writers then make its `rows` events too).
    private let onFollow = NIOLockedValueBox<(@Sendable (Int64) -> Void)?>(nil)

    package func setFollowHandler(_ handler: @escaping @Sendable (Int64) -> Void) {
        onFollow.withLockedValue { $0 = handler }
    }

    package init(lastSeq: Int64, capacity: Int = 8192, maxSubscribers: Int = 1000) {
        self.capacity = capacity
        self.maxSubscribers = maxSubscribers
        state = NIOLockedValueBox(State(forgottenUpTo: lastSeq, lastSeq: lastSeq))
    }

    /// The number of the last event published.
    public var lastSeq: Int64 { state.withLockedValue { $0.lastSeq } }

    /// Dataflows somebody follows now or is about to (the writer makes events only for them).
    package var followedDataflows: Set<Int64> {
        let now = ContinuousClock.now
        return state.withLockedValue { s in
            s.watched = s.watched.filter { $0.value > now }
            return Set(s.subscribers.values.map(\.dataflowID)).union(s.watched.keys)
        }
    }

    /// How long after reading a dataflow's runs or series a page counts as following it.
    public static let watchWindow: Duration = .seconds(60)

    /// A page read the dataflow's runs or series and will subscribe from there: events are made
    /// for it from now on, so the commits between the read and the subscription are not missed.
    public func watch(dataflowID: Int64) {
        let until = ContinuousClock.now + Self.watchWindow
        state.withLockedValue { $0.watched[dataflowID] = until }
        onFollow.withLockedValue { $0 }?(dataflowID)
    }

    /// Called by the writer after a commit, in event order. Events already published (a server
    /// hearing its own commit back from PostgreSQL) are skipped.
    package func publish(_ events: [LiveEvent]) {
        guard !events.isEmpty else { return }
        let slow: [AsyncStream<Item>.Continuation] = state.withLockedValue { s in
            let events = events.filter { $0.seq > s.lastSeq }
            guard !events.isEmpty else { return [] }
            s.recent.append(contentsOf: events)
            if s.recent.count > capacity {
                let drop = s.recent.count - capacity
                s.forgottenUpTo = s.recent[drop - 1].seq
                s.recent.removeFirst(drop)
            }
            s.lastSeq = max(s.lastSeq, events.last!.seq)
            var slow: [Int] = []
            for (id, sub) in s.subscribers {
                for e in events where e.dataflowID == sub.dataflowID {
                    if case .dropped = sub.continuation.yield(.event(e)) {
                        slow.append(id)
                        break
                    }
                }
            }
            return slow.compactMap { s.subscribers.removeValue(forKey: $0)?.continuation }
        }
        // Outside the lock: finishing runs the stream's termination handler, which takes it.
        for continuation in slow { continuation.finish() }
    }

    /// Events up to `seq` that this process never received are gone (another server's, deleted
    /// from PostgreSQL before this one read them): every subscriber is told to reload (`reset`),
    /// and so is a client that reconnects from before `seq`. Later events are published as usual.
    package func lost(upTo seq: Int64) {
        let full: [AsyncStream<Item>.Continuation] = state.withLockedValue { s in
            guard seq > s.lastSeq else { return [] }
            s.forgottenUpTo = seq
            s.lastSeq = seq
            s.recent.removeAll()
            // A follower whose buffer is full is disconnected: it reconnects from before `seq`
            // and is told to reload then.
            let full = s.subscribers.filter { _, sub in
                if case .dropped = sub.continuation.yield(.event(LiveEvent(seq: seq, dataflowID: sub.dataflowID, kind: .reset, data: "{}"))) {
                    return true
                }
                return false
            }
            return full.keys.compactMap { s.subscribers.removeValue(forKey: $0)?.continuation }
        }
        for continuation in full { continuation.finish() }
    }

    /// Follows a dataflow from event `since` (exclusive; nil: from now). The stream begins with
    /// the events after `since` still kept, or with `reset` when some of them are gone.
    public func subscribe(dataflowID: Int64, since: Int64?) throws -> Subscription {
        onFollow.withLockedValue { $0 }?(dataflowID)
        let (stream, continuation) = AsyncStream<Item>.makeStream(bufferingPolicy: .bufferingOldest(Self.subscriberBuffer))
        let id: Int = try state.withLockedValue { s in
            guard !s.finished else { throw ProvError.tooManyRequests("the server is shutting down") }
            guard s.subscribers.count < maxSubscribers else {
                throw ProvError.tooManyRequests("\(maxSubscribers) live streams are open; try again shortly", retryAfter: 5)
            }
            if let since {
                let missed = since < s.forgottenUpTo || since > s.lastSeq
                    ? nil : s.recent.filter { $0.seq > since && $0.dataflowID == dataflowID }
                // More than the stream holds would be cut short without a word: reload instead.
                if let missed, missed.count < Self.subscriberBuffer {
                    for e in missed { continuation.yield(.event(e)) }
                } else {
                    continuation.yield(.event(LiveEvent(seq: s.lastSeq, dataflowID: dataflowID, kind: .reset, data: "{}")))
                }
            }
            let id = s.nextID
            s.nextID += 1
            s.subscribers[id] = Subscriber(dataflowID: dataflowID, continuation: continuation)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLockedValue { $0.subscribers.removeValue(forKey: id) }
        }
        return Subscription(items: stream, continuation: continuation)
    }

    /// Sends a keep-alive to every subscriber (a comment line on the wire).
    public func keepAlive() {
        state.withLockedValue { s in
            for sub in s.subscribers.values { sub.continuation.yield(.keepAlive) }
        }
    }

    /// Ends every stream (the server is shutting down) and refuses new ones.
    public func finish() {
        let subscribers = state.withLockedValue { s in
            s.finished = true
            defer { s.subscribers.removeAll() }
            return Array(s.subscribers.values)
        }
        for sub in subscribers { sub.continuation.finish() }
    }
}

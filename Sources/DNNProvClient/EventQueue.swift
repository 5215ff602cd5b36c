import DNNProvModel
import Foundation

/// What the caller hands over: an event, or a dataflow to register before the events after it.
enum QueueItem: Sendable {
    case event(TaskEvent)
    case dataflow(DataflowSpec)
}

/// The in-memory buffer between the training loop and the sender.
///
/// `append` is the capture path: a mutex, a sequence number, an array append, and a condition
/// signal only when the sender has something new to do (first item, full batch). No encoding, no
/// I/O. When the buffer reaches its bound (the sender is stuck on the network, or slower than the
/// producer), it goes to the spool through the `Spiller`, so memory stays bounded and nothing is
/// dropped.
final class EventQueue: @unchecked Sendable {
    private let cond = NSCondition()
    private var items: [QueueItem] = []
    /// An emptied buffer handed back by the sender, reused so appends rarely reallocate.
    private var spare: [QueueItem] = []
    private var nextSeq: Int64 = 0
    private var closed = false
    private var flushWaiters = 0
    private let batchSize: Int
    private let maxBuffered: Int
    private let spool: Spool
    private let encode: @Sendable ([QueueItem], Int64) -> [Record]
    let spiller: Spiller

    private let deliveredCond = NSCondition()
    /// Every item with a sequence number up to this one is acknowledged (or was refused and dropped).
    private var delivered: Int64 = -1

    /// `encode` turns items (the first with sequence number `base`) into spool records.
    init(batchSize: Int, maxBuffered: Int, spool: Spool, encode: @escaping @Sendable ([QueueItem], Int64) -> [Record]) {
        self.batchSize = batchSize
        self.maxBuffered = maxBuffered
        self.spool = spool
        self.encode = encode
        spiller = Spiller { items, base in spool.append(encode(items, base)) }
        items.reserveCapacity(batchSize * 2)
        spare.reserveCapacity(batchSize * 2)
    }

    private var dataflows = 0

    /// Events appended so far (registrations not counted).
    var enqueued: Int {
        cond.lock(); defer { cond.unlock() }
        return Int(nextSeq) - dataflows
    }

    func append(_ item: QueueItem) {
        cond.lock()
        let seq = nextSeq
        nextSeq += 1
        if case .dataflow = item { dataflows += 1 }
        items.append(item)
        if items.count >= maxBuffered || closed {
            let out = items
            let base = seq - Int64(out.count) + 1
            items = []
            if !closed {
                items.reserveCapacity(batchSize * 2)
                if spiller.offer(out, base: base) {
                    cond.unlock()
                    return
                }
            }
            // The spiller is busy (or the client closed): write it here. Take the spool lock
            // before letting the sender in: it then finds these items in the spool before it can
            // send anything newer.
            spool.lock.lock()
            cond.unlock()
            _ = spool.appendLocked(encode(out, base))  // a disk error is logged by the spool
            spool.lock.unlock()
            return
        }
        if items.count == 1 || items.count == batchSize { cond.signal() }
        cond.unlock()
    }

    /// Waits for work and takes everything buffered: returns at a full batch, when items have
    /// waited `interval` seconds, at once on flush or close, or empty-handed at `deadline`.
    func take(interval: Double, deadline: Date?) -> (items: [QueueItem], base: Int64, closing: Bool) {
        cond.lock(); defer { cond.unlock() }
        while items.isEmpty && !closed {
            if let deadline {
                if !cond.wait(until: deadline) { break }
            } else {
                cond.wait()
            }
        }
        if !items.isEmpty && items.count < batchSize && !closed && flushWaiters == 0 {
            let end = Date(timeIntervalSinceNow: interval)
            while items.count < batchSize && !closed && flushWaiters == 0 {
                if !cond.wait(until: end) { break }
            }
        }
        let out = items
        items = spare
        spare = []
        return (out, nextSeq - Int64(out.count), closed)
    }

    /// Gives an encoded buffer back for reuse.
    func recycle(_ buffer: consuming [QueueItem]) {
        var b = buffer
        b.removeAll(keepingCapacity: true)
        cond.lock()
        if spare.capacity < b.capacity { spare = b }
        cond.unlock()
    }

    var isEmpty: Bool {
        cond.lock(); defer { cond.unlock() }
        return items.isEmpty
    }

    /// From now on appends go straight to the spool.
    func close() {
        cond.lock()
        closed = true
        cond.broadcast()
        cond.unlock()
    }

    /// Events and registrations appended but not yet acknowledged (queued, in flight or spooled).
    var undelivered: Int {
        cond.lock()
        let last = nextSeq - 1
        cond.unlock()
        deliveredCond.lock(); defer { deliveredCond.unlock() }
        return Int(max(0, last - delivered))
    }

    func markDelivered(through last: Int64) {
        deliveredCond.lock()
        if last > delivered {
            delivered = last
            deliveredCond.broadcast()
        }
        deliveredCond.unlock()
    }

    /// Asks the sender to send now, and waits until everything appended so far is acknowledged.
    func flush(timeout: Double) -> Bool {
        cond.lock()
        let target = nextSeq - 1
        flushWaiters += 1
        cond.broadcast()
        cond.unlock()
        defer {
            cond.lock()
            flushWaiters -= 1
            cond.unlock()
        }
        let end = Date(timeIntervalSinceNow: timeout)
        deliveredCond.lock(); defer { deliveredCond.unlock() }
        while delivered < target {
            if !deliveredCond.wait(until: end) { return delivered >= target }
        }
        return true
    }
}

import Foundation

/// Writes full in-memory buffers to the spool on its own thread, so a training loop that outruns
/// delivery does not pay for encoding and fsync. One buffer at a time: while the spiller is busy,
/// the caller writes the next full buffer itself, so memory stays bounded (about two buffers).
final class Spiller: @unchecked Sendable {
    private let cond = NSCondition()
    private var slot: (items: [QueueItem], base: Int64)?
    /// Buffers accepted and not yet written.
    private var busy = 0
    private var stopped = false
    private let write: @Sendable ([QueueItem], Int64) -> Void

    /// `write` encodes a buffer and appends it to the spool.
    init(write: @escaping @Sendable ([QueueItem], Int64) -> Void) {
        self.write = write
        let thread = Thread { [self] in run() }
        thread.name = "dnnprov-spiller"
        thread.start()
    }

    /// Takes the buffer when idle; false when the caller must write it itself.
    func offer(_ items: [QueueItem], base: Int64) -> Bool {
        cond.lock(); defer { cond.unlock() }
        guard busy == 0, !stopped else { return false }
        slot = (items, base)
        busy += 1
        cond.signal()
        return true
    }

    /// Waits until every accepted buffer is in the spool. The sender calls this after taking newer
    /// items, so that it finds older data in the spool before it sends anything newer.
    func waitIdle() {
        cond.lock()
        while busy > 0 { cond.wait() }
        cond.unlock()
    }

    /// Ends the thread once the buffer it holds, if any, is written.
    func stop() {
        cond.lock()
        stopped = true
        cond.broadcast()
        cond.unlock()
    }

    private func run() {
        while true {
            cond.lock()
            while slot == nil && !stopped { cond.wait() }
            guard let s = slot else {
                cond.unlock()
                return
            }
            slot = nil
            cond.unlock()
            write(s.items, s.base)
            cond.lock()
            busy -= 1
            cond.broadcast()
            cond.unlock()
        }
    }
}

import DNNProvStore
import Foundation

/// The progress of `dnnprov migrate` on stderr: on a terminal, one line redrawn in place (at
/// most ten times a second); otherwise (a log, a pipe) a plain line every `interval` seconds, so
/// logs stay readable.
final class MigrationDisplay: @unchecked Sendable {
    private let terminal: Bool
    private let interval: Double
    private let lock = NSLock()
    private var last = Date.distantPast
    private var drawn = false
    private var latest: MigrationProgress?

    init(terminal: Bool, interval: Double) {
        self.terminal = terminal
        self.interval = max(0, interval)
    }

    func update(_ p: MigrationProgress) {
        lock.lock(); defer { lock.unlock() }
        latest = p
        let now = Date()
        guard now.timeIntervalSince(last) >= (terminal ? 0.1 : interval) else { return }
        last = now
        write(p)
    }

    /// Shows the last state (a table finished since the last line) and ends the line.
    func end() {
        lock.lock(); defer { lock.unlock() }
        if let latest, !terminal || drawn { write(latest) }
        if terminal && drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }

    private func write(_ p: MigrationProgress) {
        let percent = p.overallTotal > 0 ? Double(p.overallCopied) * 100 / Double(p.overallTotal) : 100
        let line = "migrate: \(p.table) \(p.copied)/\(p.total) rows, \(Int(p.rate)) rows/s; "
            + "all tables \(p.overallCopied)/\(p.overallTotal) (\(String(format: "%.0f", percent))%)"
        if terminal {
            // \r and erase-to-end: the line is redrawn in place.
            FileHandle.standardError.write(Data("\r\(line)\u{1B}[K".utf8))
            drawn = true
        } else {
            FileHandle.standardError.write(Data("\(line)\n".utf8))
        }
    }
}

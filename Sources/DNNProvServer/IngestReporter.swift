import DNNProvModel
import DNNProvStore
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// One info line per interval (a minute by default) while data arrives, so that whoever watches
/// the server sees it: events and rows stored, duplicates, the dataflows touched. Quiet when
/// nothing was stored. The write routes feed it with `record(_:dataflows:)`; it runs as a service
/// of the application and says its last line at shutdown.
public final class IngestReporter: Service, Sendable {
    private struct Counts {
        var events = 0
        var duplicates = 0
        var rows = 0
        var requests = 0
        var dataflows = Set<String>()
    }

    private let counts = NIOLockedValueBox(Counts())
    private let logger: Logger
    private let interval: Duration

    public init(logger: Logger, interval: Duration = .seconds(60)) {
        self.logger = logger
        self.interval = interval
    }

    /// Counts what one write request stored.
    public func record(_ result: IngestResult, dataflows: some Sequence<String>) {
        guard result.stored + result.duplicates + result.rows > 0 else { return }
        let tags = Set(dataflows)
        counts.withLockedValue { c in
            c.events += result.stored
            c.duplicates += result.duplicates
            c.rows += result.rows
            c.requests += 1
            c.dataflows.formUnion(tags)
        }
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown { [self] in
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                report()
            }
        }
        report(final: true)
    }

    /// Logs and resets the counts; returns the line (nil when nothing was stored).
    @discardableResult
    func report(final: Bool = false) -> String? {
        let c = counts.withLockedValue { c in
            defer { c = Counts() }
            return c
        }
        guard c.requests > 0 else { return nil }
        var line = "ingest: \(c.events) event(s) and \(c.rows) row(s) stored \(final ? "since the last report" : "in " + Self.describe(interval))"
        if c.duplicates > 0 { line += " (\(c.duplicates) resent event(s) skipped)" }
        line += "; dataflows: \(c.dataflows.sorted().joined(separator: ", "))"
        logger.info("\(line)")
        return line
    }

    private static func describe(_ d: Duration) -> String {
        let s = d.components.seconds
        return s == 60 ? "the last minute" : "the last \(s)s"
    }
}

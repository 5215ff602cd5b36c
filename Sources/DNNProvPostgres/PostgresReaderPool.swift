import DNNProvModel
import DNNProvStore
import Foundation
import Logging
import NIOConcurrencyHelpers

/// Connections for the store's own reads (listings, runs, series, PROV export), each read in a
/// read-only repeatable-read transaction: one consistent snapshot, as SQLite's WAL readers give.
/// A read runs on a thread of its own (the connection calls block), never on an event loop.
final class PostgresReaderPool: @unchecked Sendable {
    /// Idle connections kept; more are opened under load and closed when returned.
    static let keptIdle = 8
    /// Connections open at once: reads past that wait for one, so that a burst of reads (a
    /// dashboard opened by a whole lab) cannot use up PostgreSQL's `max_connections`, which the
    /// writer needs when it reconnects.
    static let maxOpen = 16

    let url: PostgresURL
    let logger: Logger
    private let idle = NIOLockedValueBox<[PGConnection]>([])
    private let slots = AdmissionGate(limit: maxOpen, maxWaiting: .max)
    private let closed = NIOLockedValueBox(false)

    init(url: PostgresURL, logger: Logger) {
        self.url = url
        self.logger = logger
    }

    /// `urgent`: the live stream's own reads and writes, which do not wait behind the listings
    /// and exports (at most one of each at a time per server, so the bound barely moves).
    func read<T: Sendable>(urgent: Bool = false, _ body: @escaping @Sendable (any SQLDatabase) throws -> T) async throws -> T {
        try await run(readOnly: true, urgent: urgent, body)
    }

    /// A small write outside the group commit (the follow records of `PostgresFollowers`).
    func write(_ sql: String, _ arguments: SQLArguments) async throws {
        try await run(readOnly: false, urgent: true) { db in try db.execute(sql: sql, arguments: arguments) }
    }

    private func run<T: Sendable>(readOnly: Bool, urgent: Bool, _ body: @escaping @Sendable (any SQLDatabase) throws -> T) async throws -> T {
        if urgent { return try await transaction(readOnly: readOnly, body) }
        return try await slots.run(waitIfFull: true) { try await transaction(readOnly: readOnly, body) }
    }

    private func transaction<T: Sendable>(readOnly: Bool, _ body: @escaping @Sendable (any SQLDatabase) throws -> T) async throws -> T {
        try await onOwnThread { [self] in
            let connection = try take()
            do {
                try connection.simple(readOnly ? "BEGIN READ ONLY ISOLATION LEVEL REPEATABLE READ" : "BEGIN")
                let value = try body(connection)
                try connection.simple("COMMIT")
                give(connection)
                return value
            } catch {
                connection.discardPending()
                if (try? connection.simple("ROLLBACK")) != nil { give(connection) } else { connection.close() }
                throw error
            }
        }
    }

    private func take() throws -> PGConnection {
        if closed.withLockedValue({ $0 }) { throw ProvStoreError.closed }
        // A connection PostgreSQL closed while it was idle (a restart) is dropped, not used.
        while let c = idle.withLockedValue({ $0.popLast() }) {
            if c.isOpen { return c }
            c.close()
        }
        return try PGConnection.connect(url: url, logger: logger)
    }

    private func give(_ connection: PGConnection) {
        let keep = idle.withLockedValue { idle in
            guard idle.count < Self.keptIdle, !closed.withLockedValue({ $0 }) else { return false }
            idle.append(connection)
            return true
        }
        if !keep { connection.close() }
    }

    func close() {
        closed.withLockedValue { $0 = true }
        for c in idle.withLockedValue({ i in defer { i = [] }; return i }) { c.close() }
    }
}

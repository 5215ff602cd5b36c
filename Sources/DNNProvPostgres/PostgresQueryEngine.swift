import DNNProvModel
import DNNProvStore
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOSSL
import PostgresNIO

/// Runs user queries (`POST /api/v1/query`, `dnnprov query`) on PostgreSQL, with the rules
/// enforced by the database rather than by parsing:
///
/// - each query runs in its own `BEGIN READ ONLY` transaction that always ends in `ROLLBACK`,
///   so nothing it does (a write the role could make, a temporary setting) outlives it;
/// - inside it, `SET LOCAL ROLE` switches to a role that can only read: `dnnprov_reader` (the
///   readable global tables and every dataflow schema), or for a caller scoped to some dataflows
///   a per-scope role (`dnnprov_scope_<sha256 of the schema list>`, see ``scopeRole(for:on:)``)
///   that reads those dataflows' schemas and **no global table** (the global tables mix all
///   dataflows' rows: a scoped caller reads its dataflows through their `ds_<set>` tables and
///   `<set>` views only; it has USAGE on `dnnprov` for the functions there);
/// - `SET LOCAL statement_timeout` stops the statement at the caller's time limit, and
///   `idle_in_transaction_session_timeout` ends the session if this process stalls mid-query;
/// - `SET LOCAL search_path` makes the chosen dataflow's tables answer to their unqualified
///   names (the seeds' queries run verbatim), then `dnnprov`'s global tables;
/// - `pg_catalog.set_config` is revoked from PUBLIC (``hardeningSQL``). Without that, any
///   SELECT could call `set_config('role', ...)` to leave the reader role for the session user
///   (PostgreSQL checks `SET ROLE` against the *session* user, who owns everything) and read
///   the rest through `query_to_xml`. The engine revokes it itself when it may (a superuser),
///   and otherwise refuses every query until an administrator has (fail closed).
///
/// After the statement, `ROLLBACK` and `pg_advisory_unlock_all()` leave the pooled connection as
/// it was (see ``rollback(_:)``; `SET`, `PREPARE`, `LISTEN`, `DECLARE` never reach the server).
/// An answer cut short by a limit closes its connection instead, which stops the statement at
/// once rather than reading the rest of its rows.
///
/// Not bounded here, unlike SQLite (`QueryPoolConfiguration.maxValueBytes`): the size of one
/// value (`repeat('x', 500000000)` is built by the server and read whole before the byte budget
/// sees it) and the server's memory and temporary files for a query; `statement_timeout` ends
/// such a query, and an administrator may set `temp_file_limit` for the database or user the
/// query client connects with (a read replica's, ideally): role settings of the reader roles do
/// not apply, as `SET ROLE` does not load them.
/// Scoped callers can still list schema names (dataflow tags) through `pg_catalog`, which every
/// role reads.
///
/// Before the database sees the text, ``PostgresQueryStatement`` refuses more than one statement
/// and statements that do not start by reading (`RESET ROLE` would undo the role switch).
///
/// The row limit and the byte budget are applied while rows stream in. At most
/// `configuration.workers` queries run at once and `configuration.maxWaiting` wait (429 past
/// that); the timeout covers waiting for a place, for a connection and running.
///
/// **Connections.** Two ways to make an engine:
/// - ``init(client:configuration:logger:)`` uses a `PostgresClient` the caller makes and runs
///   (`await client.run()`, or a `Service` under ServiceLifecycle);
/// - ``init(url:configuration:logger:)`` makes a client of its own (`maximumConnections` =
///   `configuration.workers`) and runs it in a task of its own until ``shutdown()``.
/// A client of its own for queries keeps slow queries from taking the connections ingestion
/// needs, as the separate query pool does for SQLite (and may point at a read replica).
package final class PostgresQueryEngine: Sendable {
    /// The role plain (unscoped) queries run as; made by the schema, with USAGE and SELECT on the
    /// readable global tables and on each dataflow schema.
    package static let readerRole = "dnnprov_reader"
    /// The global schema.
    package static let globalSchema = "dnnprov"

    /// What a superuser runs once per database so that user queries cannot change their role
    /// (see the type's documentation). The server's own user needs no grant when it is a
    /// superuser; otherwise grant it EXECUTE back if it uses `set_config`.
    package static let hardeningSQL = [
        "REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) FROM PUBLIC",
    ]

    static let timeoutError = ProvError(.timeout, "the query ran past its time limit and was stopped")

    /// Server messages quoted in answers are cut to this.
    static let maxServerMessage = 600

    /// A fixed advisory lock key: the scope roles are made one at a time, server-wide, so two
    /// dnnprov instances making the same role do not race on `CREATE ROLE` or the grants.
    static let scopeLockKey: Int64 = 0x646E_6E70_7276_7331

    let client: PostgresClient
    let configuration: QueryPoolConfiguration
    let logger: Logger
    private let gate: PostgresQueryGate
    /// Runs the client the engine made itself; nil for a caller's client.
    private let runner: Task<Void, Never>?

    private struct ScopeRole: Sendable {
        var name: String
        /// Schemas granted when it was set up: fewer than asked when some did not exist yet
        /// (a dataflow of the scope not registered), in which case it is set up again next time.
        var granted: Int
    }

    /// Scope roles ready in this database, by their schema list.
    private let scopeRoles = NIOLockedValueBox([String: ScopeRole]())
    /// Whether `set_config` is known to be out of the reader's reach.
    private let hardened = NIOLockedValueBox(false)

    /// - Parameters:
    ///   - client: The client to lease connections from; the caller runs it.
    ///   - configuration: How many queries run and wait at once (`maxValueBytes` does not apply:
    ///     PostgreSQL bounds values itself, and the byte budget bounds the answer).
    package convenience init(client: PostgresClient, configuration: QueryPoolConfiguration, logger: Logger) {
        self.init(client: client, runs: false, configuration: configuration, logger: logger)
    }

    /// An engine with a client of its own on `url`, running until ``shutdown()``.
    package convenience init(url: PostgresURL, configuration: QueryPoolConfiguration, logger: Logger) throws {
        // libpq's meaning of each mode, as `PostgresURL.configuration()` has it for single
        // connections (PostgresClient takes a TLSConfiguration rather than a context).
        let tls: PostgresClient.Configuration.TLS
        switch url.sslMode {
        case .disable, .allow:
            tls = .disable
        default:
            // verify-ca and verify-full are `.require` with their certificate check in it.
            let t = url.clientTLSConfiguration
            tls = url.sslMode == .prefer ? .prefer(t) : .require(t)
        }
        var config = PostgresClient.Configuration(host: url.host, port: url.port, username: url.user,
                                                  password: url.password, database: url.database, tls: tls)
        config.options.minimumConnections = 0
        config.options.maximumConnections = max(1, configuration.workers)
        config.options.additionalStartupParameters.append(("application_name", url.applicationName ?? "dnnprov-query"))
        let client = PostgresClient(configuration: config, backgroundLogger: logger)
        self.init(client: client, runs: true, configuration: configuration, logger: logger)
    }

    private init(client: PostgresClient, runs: Bool, configuration: QueryPoolConfiguration, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        gate = PostgresQueryGate(workers: configuration.workers, maxWaiting: configuration.maxWaiting)
        runner = runs ? Task { await client.run() } : nil
    }

    deinit { runner?.cancel() }

    /// Stops the client this engine made (``init(url:configuration:logger:)``); its connections
    /// close once their queries end. Queries after this fail. Nothing for a caller's client.
    package func shutdown() {
        runner?.cancel()
    }

    /// Runs one read-only statement.
    ///
    /// - Parameters:
    ///   - sql: One statement (a trailing `;` is fine).
    ///   - dataflowSchema: The schema whose tables answer to unqualified names (`df_mnist`), or
    ///     nil for the global tables only.
    ///   - scopeSchemas: For a caller scoped to some dataflows, their schemas: the query may read
    ///     nothing else, global tables included. Nil: every dataflow and the readable global tables.
    ///   - limit: The most rows in the answer; past it the answer is truncated (`.rows`).
    ///   - maxBytes: The most bytes of values (as a JSON answer counts them); past it `.bytes`.
    ///   - timeout: For waiting and running together.
    /// - Throws: `ProvError`: `.badRequest` (SQL errors, several statements), `.forbidden`
    ///   (writes, tables out of reach), `.timeout`, `.tooManyRequests`.
    package func run(_ sql: String, dataflowSchema: String?, scopeSchemas: [String]?, scopeTags: [String] = [], limit: Int, maxBytes: Int,
                     timeout: Duration) async throws -> QueryResult {
        let start = ContinuousClock.now
        let deadline = start + timeout
        guard limit > 0 else { throw ProvError.badRequest("limit must be at least 1") }
        let statement = try PostgresQueryStatement(sql)
        try await gate.enter(deadline: deadline)
        defer { gate.leave() }
        var result = try await withDeadline(deadline) { [self] in
            try await client.withConnection { connection in
                try await ensureHardened(connection)
                var role = Self.readerRole
                var searchPath = (dataflowSchema.map { [$0] } ?? []) + [Self.globalSchema]
                if let scopeSchemas {
                    role = try await scopeRole(for: scopeSchemas, tags: scopeTags, on: connection)
                    // The scope's views of the global tables (its schema is named as the role)
                    // answer to `task`, `dataflow`, ...; `dnnprov` stays for its functions.
                    searchPath.insert(role, at: searchPath.count - 1)
                }
                return try await execute(statement, on: connection, role: role, searchPath: searchPath,
                                         limit: limit, maxBytes: maxBytes, deadline: deadline)
            }
        }
        let elapsed = ContinuousClock.now - start
        result.elapsedMs = elapsed.milliseconds
        return result
    }

    // MARK: - One query

    private func execute(_ statement: PostgresQueryStatement, on connection: PostgresConnection, role: String,
                         searchPath: [String], limit: Int, maxBytes: Int,
                         deadline: ContinuousClock.Instant) async throws -> QueryResult {
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else { throw Self.timeoutError }
        let timeoutMs = max(1, Int(remaining.milliseconds))
        try await connection.query("BEGIN READ ONLY", logger: logger)
        do {
            // Settings first, the role last: after SET ROLE the session is the reader's.
            // Values are ours (numbers, quoted names), never the user's text.
            try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL statement_timeout = \(timeoutMs)"), logger: logger)
            // Only reached if this process stops reading mid-query: the server ends the session.
            try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL idle_in_transaction_session_timeout = \(timeoutMs + 30_000)"), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL search_path = \(searchPath.map(Self.quoted).joined(separator: ", "))"), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL ROLE \(Self.quoted(role))"), logger: logger)
            let result = try await stream(statement, on: connection, limit: limit, maxBytes: maxBytes)
            if result.truncated {
                // Stopped at a limit with rows still coming: PostgresNIO would read and discard
                // all the rest (a million-row table for a 10,000-row answer) before the next
                // statement. Closing the connection stops the server at once (it rolls back
                // and ends the backend); the pool opens another on demand.
                try? await connection.close()
            } else {
                // The answer stands even if cleaning up fails (the connection is then closed).
                await rollback(connection)
            }
            return result
        } catch {
            await rollback(connection)
            throw Self.mapped(error)
        }
    }

    /// Reads the rows, stopping at the row limit or the byte budget (the caller then closes the
    /// connection rather than wait for the rows past the stop).
    private func stream(_ statement: PostgresQueryStatement, on connection: PostgresConnection, limit: Int,
                        maxBytes: Int) async throws -> QueryResult {
        let rows = try await connection.query(PostgresQuery(unsafeSQL: statement.sql), logger: logger)
        let columns = rows.columns.map { QueryResult.Column(name: $0.name, type: PostgresQueryDecoding.typeName($0.dataType)) }
        var out: [[QueryValue]] = []
        var bytes = 0
        var stop: QueryResult.Limit?
        for try await row in rows {
            // One row past the limit says there were more.
            if out.count == limit {
                stop = .rows
                break
            }
            var values: [QueryValue] = []
            values.reserveCapacity(columns.count)
            for cell in row {
                let value = try PostgresQueryDecoding.value(cell)
                bytes += Self.encodedSize(value)
                values.append(value)
            }
            if bytes > maxBytes {
                stop = .bytes
                break
            }
            out.append(values)
        }
        return QueryResult(columns: columns, rows: out, truncated: stop != nil, elapsedMs: 0, limit: stop)
    }

    /// Ends the transaction, and what a query could leave behind past it: session-level
    /// advisory locks (`pg_advisory_lock` works in a read-only transaction and outlives it; a
    /// user holding the schema migration's lock would stall every server). A connection that
    /// cannot be cleaned is closed, so that the pool never lends out a connection still inside
    /// a transaction with our role, or holding a user's lock.
    private func rollback(_ connection: PostgresConnection) async {
        do {
            try await connection.query("ROLLBACK", logger: logger)
            try await connection.query("SELECT pg_advisory_unlock_all()", logger: logger)
        } catch {
            logger.warning("closing a query connection that could not roll back", metadata: ["error": "\(String(reflecting: error))"])
            try? await connection.close()
        }
    }

    // MARK: - Roles

    /// Makes sure user queries cannot call `set_config` (see the type's documentation), revoking
    /// it when this user may; checked once per engine.
    private func ensureHardened(_ connection: PostgresConnection) async throws {
        if hardened.withLockedValue({ $0 }) { return }
        if try await readerMaySetConfig(connection) {
            for sql in Self.hardeningSQL {
                do {
                    try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                } catch {
                    logger.debug("cannot revoke set_config", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
            if try await readerMaySetConfig(connection) {
                logger.error("user queries are refused: the role \(Self.readerRole) may call set_config; a superuser must run: \(Self.hardeningSQL.joined(separator: "; "))")
                throw ProvError.forbidden("queries are disabled on this server until its database is hardened (see the server's log)")
            }
        }
        hardened.withLockedValue { $0 = true }
    }

    private func readerMaySetConfig(_ connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            "SELECT has_function_privilege(\(Self.readerRole), 'pg_catalog.set_config(text, text, boolean)', 'EXECUTE')",
            logger: logger)
        for try await may in rows.decode(Bool.self) { return may }
        return true
    }

    /// The role for a caller scoped to `schemas`, made on first use: NOLOGIN, USAGE and SELECT on
    /// those schemas (and, through default privileges, on tables this user makes there later),
    /// nothing else. Its name is a digest of the sorted schema list, so every dnnprov instance
    /// on the database finds the same role; the digest is SHA-256, made by the server, so
    /// dataflow tags cannot be chosen to collide with another scope's role.
    ///
    /// Schemas that do not exist yet are skipped and the role is set up again on the next query.
    private func scopeRole(for schemas: [String], tags: [String], on connection: PostgresConnection) async throws -> String {
        let wanted = Set(schemas).sorted()
        // Named after the scope's tags (what the views filter on) and its schemas: a scope of
        // {a} and one of {a, b} before b exists are different roles.
        let key = (Set(tags).sorted() + ["|"] + wanted).map(Self.quoted).joined(separator: ",")
        if let ready = scopeRoles.withLockedValue({ $0[key] }), ready.granted == wanted.count { return ready.name }
        try await connection.query("BEGIN", logger: logger)
        do {
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.scopeLockKey))", logger: logger)
            let rows = try await connection.query("""
                SELECT r.name, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.name),
                       ARRAY(SELECT nspname::text FROM pg_namespace WHERE nspname = ANY(\(wanted)) ORDER BY 1)
                FROM (SELECT 'dnnprov_scope_' || left(encode(sha256(convert_to(\(key), 'UTF8')), 'hex'), 40) AS name) r
                """, logger: logger)
            var found: (String, Bool, [String])?
            for try await row in rows.decode((String, Bool, [String]).self) { found = row }
            guard let (name, exists, existing) = found else { throw ProvStoreError.storage("no scope role name") }
            let role = Self.quoted(name)
            if !exists {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE ROLE \(role) NOLOGIN"), logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: "COMMENT ON ROLE \(role) IS \(Self.literal("dnnprov query scope: \(key)"))"), logger: logger)
            }
            // SET ROLE needs membership (a superuser has it anyway; a CREATEROLE user does not).
            try await connection.query(PostgresQuery(unsafeSQL: "GRANT \(role) TO CURRENT_USER"), logger: logger)
            // USAGE on the global schema without SELECT on its tables: its functions (the seeds'
            // round(double precision, integer)) resolve, its tables answer "permission denied".
            try await connection.query(PostgresQuery(unsafeSQL: "GRANT USAGE ON SCHEMA \(Self.quoted(Self.globalSchema)) TO \(role)"), logger: logger)
            // The global tables as the scope sees them: views (owned by the server's user, so
            // they read the tables the role may not) holding only the scope's dataflows' rows,
            // in a schema named as the role, as SQLite's per-query views do.
            let ids = "SELECT id FROM \(Self.quoted(Self.globalSchema)).dataflow WHERE tag IN (\(tags.isEmpty ? "NULL" : Set(tags).sorted().map(Self.literal).joined(separator: ", ")))"
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(role)"), logger: logger)
            for table in GlobalSchema.readableTables.sorted() {
                guard let select = GlobalSchema.scopedSelect(table, ids: ids, schema: Self.quoted(Self.globalSchema)) else { continue }
                // A table this database lacks (an older or partial schema) gets no view.
                // security_barrier: the view's filter runs before the caller's conditions, so an
                // error on another dataflow's row (a failing cast) cannot show its value.
                let create = "CREATE OR REPLACE VIEW \(role).\(Self.quoted(table)) WITH (security_barrier) AS \(select)"
                try await connection.query(PostgresQuery(unsafeSQL: """
                    DO $dnnprov_scope$ BEGIN EXECUTE \(Self.literal(create));
                    EXCEPTION WHEN undefined_table OR undefined_column THEN NULL; END $dnnprov_scope$
                    """), logger: logger)
            }
            try await connection.query(PostgresQuery(unsafeSQL: "GRANT USAGE ON SCHEMA \(role) TO \(role)"), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "GRANT SELECT ON ALL TABLES IN SCHEMA \(role) TO \(role)"), logger: logger)
            for schema in existing.map(Self.quoted) {
                try await connection.query(PostgresQuery(unsafeSQL: "GRANT USAGE ON SCHEMA \(schema) TO \(role)"), logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: "GRANT SELECT ON ALL TABLES IN SCHEMA \(schema) TO \(role)"), logger: logger)
                // Sets added later (a dataflow extended in place) are readable at once.
                try await connection.query(PostgresQuery(unsafeSQL: "ALTER DEFAULT PRIVILEGES IN SCHEMA \(schema) GRANT SELECT ON TABLES TO \(role)"), logger: logger)
            }
            try await connection.query("COMMIT", logger: logger)
            scopeRoles.withLockedValue { $0[key] = ScopeRole(name: name, granted: existing.count) }
            return name
        } catch {
            await rollback(connection)
            logger.error("cannot set up a query scope role", metadata: ["error": "\(String(reflecting: error))"])
            throw ProvStoreError.storage("cannot set up the role for a scoped query")
        }
    }

    // MARK: - Helpers

    /// Runs `body`, giving up at `deadline` (and a little more, for the server's own
    /// `statement_timeout` to answer first): waiting for a connection of a busy or unreachable
    /// server ends there too. The body is cancelled; a running statement is stopped by the server.
    private func withDeadline<T: Sendable>(_ deadline: ContinuousClock.Instant,
                                           _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(until: deadline + .milliseconds(500), clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw Self.timeoutError }
            return value
        }
    }

    /// A PostgreSQL error in the caller's terms. Server errors carry the server's message (which
    /// names the user's own objects), never the detail or internal query; errors of the
    /// connection itself are rethrown for the server to answer 5xx.
    static func mapped(_ error: any Error) -> any Error {
        if error is ProvError || error is CancellationError { return error }
        guard let psql = error as? PSQLError else { return error }
        if psql.code == .queryCancelled { return timeoutError }
        guard psql.code == .server, let info = psql.serverInfo else { return error }
        let state = info[.sqlState] ?? ""
        var message = (info[.message] ?? "error").clipped(to: maxServerMessage)
        if let hint = info[.hint] { message += " (\(hint.clipped(to: 200)))" }
        switch state {
        case "25006":
            return ProvError.forbidden("only read-only queries are allowed; \(message)")
        case "42501":
            return ProvError.forbidden("queries may only read provenance tables; \(message)")
        case "57014":
            return timeoutError
        case "53200", "54000", "54001":
            return ProvError.tooLarge("the query needs more than the server allows: \(message)")
        default:
            // Connection-level failures (class 08, 57P0x shutdowns, XX internal) are the server's
            // problem, not the query's.
            if state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("XX") || state.hasPrefix("58") {
                return error
            }
            return ProvError.badRequest("SQL error: \(message)")
        }
    }

    /// About how many bytes the value takes in a JSON answer: what the byte budget counts (the
    /// same measure as the SQLite engine's).
    static func encodedSize(_ value: QueryValue) -> Int {
        switch value {
        case .null: return 5
        case .integer, .real: return 24
        case .text(let s): return s.utf8.count + 3
        case .blob(let b): return b.count * 4 / 3 + 4
        }
    }

    /// A name as a quoted SQL identifier.
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Text as an SQL string literal (standard_conforming_strings is on since PostgreSQL 9.1).
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}

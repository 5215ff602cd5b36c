import DNNProvModel
import Foundation
import GRDB

extension QueryValue {
    init(_ v: DatabaseValue) {
        switch v.storage {
        case .null: self = .null
        case .int64(let i): self = .integer(i)
        case .double(let d): self = .real(d)
        case .string(let s): self = .text(s)
        case .blob(let b): self = .blob(b)
        }
    }
}

public struct QueryOptions: Sendable {
    /// The dataflow whose tables answer to unqualified names (`ds_otrainingmodel`).
    public var dataflow: String?
    public var limit: Int
    public var timeout: Duration

    public init(dataflow: String? = nil, limit: Int = 10_000, timeout: Duration = .seconds(10)) {
        self.dataflow = dataflow
        self.limit = limit
        self.timeout = timeout
    }

    public static let maxLimit = 1_000_000
}

extension ProvStore {
    /// Runs one read-only SQL statement. Writing statements (INSERT, UPDATE, DROP, ATTACH, writing
    /// PRAGMAs, ...) are refused before they run, and the reader connections are read-only anyway.
    public func query(_ sql: String, options: QueryOptions = .init()) async throws -> QueryResult {
        guard options.limit > 0, options.limit <= QueryOptions.maxLimit else {
            throw ProvError.badRequest("limit must be between 1 and \(QueryOptions.maxLimit)")
        }
        let plan = try QueryPlan(sql: sql, dataflow: options.dataflow, catalog: catalog)
        let limit = options.limit
        let start = ContinuousClock.now
        let read: @Sendable () async throws -> QueryResult = { [pool] in
            try await pool.read { db in try plan.run(db, limit: limit) }
        }
        var result = try await withThrowingTaskGroup(of: QueryResult.self) { group in
            group.addTask(operation: read)
            group.addTask {
                try await Task.sleep(for: options.timeout)
                throw ProvError(.timeout, "the query ran longer than \(options.timeout) and was stopped")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        let elapsed = ContinuousClock.now - start
        result.elapsedMs = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return result
    }
}

/// A checked and rewritten query: the SQL to run and the temporary views it needs.
struct QueryPlan: Sendable {
    struct View: Sendable { var name: String; var select: String }
    var sql: String
    var views: [View]
    var arguments = StatementArguments()

    /// SQL built by the store itself (listings): no checks, no views.
    init(rawSQL: String, arguments: StatementArguments) {
        sql = rawSQL
        views = []
        self.arguments = arguments
    }

    static let allowedFirst: Set<String> = ["SELECT", "WITH", "VALUES", "EXPLAIN", "PRAGMA"]
    static let readingPragmas: Set<String> = ["table_info", "table_xinfo", "index_list", "index_info", "foreign_key_list"]

    init(sql: String, dataflow: String?, catalog: Catalog) throws {
        let tokens = try SQLLexer.tokens(sql)
        guard let first = tokens.first else { throw ProvError.badRequest("the query is empty") }
        if let semi = tokens.firstIndex(where: { $0.isPunctuation(";") }),
           tokens[(semi + 1)...].contains(where: { !$0.isPunctuation(";") }) {
            throw ProvError.badRequest("one statement at a time: the query holds more than one")
        }
        let keyword = first.kind == .word ? first.text.uppercased() : ""
        guard Self.allowedFirst.contains(keyword) else {
            throw ProvError.forbidden("only read-only queries are allowed (SELECT, WITH, VALUES, EXPLAIN); '\(first.text)' would change the database")
        }
        if keyword == "PRAGMA" {
            let name = tokens.count > 1 ? tokens[1].text.lowercased() : ""
            guard Self.readingPragmas.contains(name), !tokens.contains(where: { $0.isPunctuation("=") }) else {
                throw ProvError.forbidden("only reading PRAGMAs are allowed (\(Self.readingPragmas.sorted().joined(separator: ", ")))")
            }
        }

        // Names resolved through temporary views: the chosen dataflow's sets unqualified,
        // any dataflow's sets qualified by its tag.
        let chosen: DataflowEntry?
        if let tag = dataflow, !tag.isEmpty {
            chosen = try catalog.dataflow(Identifier.normalizeDataflow(tag))
        } else if catalog.dataflows.count == 1 {
            chosen = catalog.dataflows.values.first
        } else {
            chosen = nil
        }
        var views: [String: View] = [:]
        var out = ""
        let bytes = Array(sql.utf8)
        var copied = 0
        var i = 0
        while i < tokens.count {
            let tok = tokens[i]
            let afterDot = i > 0 && tokens[i - 1].isPunctuation(".")
            if tok.isName, !afterDot, i + 2 < tokens.count, tokens[i + 1].isPunctuation("."), tokens[i + 2].isName,
               let df = catalog.dataflows[tok.text.lowercased()],
               let (set, isTable) = Self.setNamed(tokens[i + 2].text, in: df) {
                let name = "\(df.tag).\(isTable ? "ds_" : "")\(set.tag)"
                views[name] = View(name: name, select: Self.select(set))
                out += String(decoding: bytes[copied..<tok.range.lowerBound], as: UTF8.self) + name.quotedIdentifier
                copied = tokens[i + 2].range.upperBound
                i += 3
                continue
            }
            if tok.isName, !afterDot, !(i + 1 < tokens.count && tokens[i + 1].isPunctuation(".")), let df = chosen,
               let (set, isTable) = Self.setNamed(tok.text, in: df) {
                let name = (isTable ? "ds_" : "") + set.tag
                views[name] = View(name: name, select: Self.select(set))
            }
            i += 1
        }
        out += String(decoding: bytes[copied...], as: UTF8.self)
        self.sql = out
        self.views = views.values.sorted { $0.name < $1.name }
    }

    /// `ds_<set>` (the table) or `<set>` (its view) of a dataflow.
    static func setNamed(_ raw: String, in df: DataflowEntry) -> (SetEntry, Bool)? {
        let name = raw.lowercased()
        if name.hasPrefix("ds_"), let s = df.sets[String(name.dropFirst(3))] { return (s, true) }
        if let s = df.sets[name] { return (s, false) }
        return nil
    }

    /// Columns as the seeds' schema has them: id, task ids (producer first), attributes.
    static func select(_ s: SetEntry) -> String {
        let cols = ["id"] + s.orderedTaskColumns.map { "\($0)_task_id" } + s.attributes.map(\.name)
        return "SELECT \(cols.map(\.quotedIdentifier).joined(separator: ", ")) FROM main.\(s.table.quotedIdentifier)"
    }

    func run(_ db: Database, limit: Int) throws -> QueryResult {
        for v in views {
            try db.execute(sql: "CREATE TEMP VIEW \(v.name.quotedIdentifier) AS \(v.select)")
        }
        defer {
            for v in views { try? db.execute(sql: "DROP VIEW IF EXISTS temp.\(v.name.quotedIdentifier)") }
        }
        let statement: Statement
        do {
            statement = try db.makeStatement(sql: sql)
        } catch let e as DatabaseError {
            throw ProvError.badRequest("SQL error: \(e.message ?? "\(e)")")
        }
        guard statement.isReadonly else {
            throw ProvError.forbidden("only read-only queries are allowed; this statement would change the database")
        }
        let names = statement.columnNames
        var rows: [[QueryValue]] = []
        var truncated = false
        do {
            let cursor = try Row.fetchCursor(statement, arguments: arguments)
            while let row = try cursor.next() {
                if rows.count == limit {
                    truncated = true
                    break
                }
                rows.append(row.databaseValues.map(QueryValue.init))
            }
        } catch let e as DatabaseError where e.resultCode == .SQLITE_INTERRUPT {
            throw CancellationError()
        } catch let e as DatabaseError {
            throw ProvError.badRequest("SQL error: \(e.message ?? "\(e)")")
        }
        let columns = names.enumerated().map { (i, name) in
            QueryResult.Column(name: name, type: rows.lazy.map { $0[i] }.first { $0 != .null }?.typeName ?? "NULL")
        }
        return QueryResult(columns: columns, rows: rows, truncated: truncated, elapsedMs: 0)
    }
}

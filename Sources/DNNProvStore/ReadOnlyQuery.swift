import DNNProvModel
import Foundation
import GRDB

extension QueryValue {
    init(_ v: DatabaseValue) { self.init(SQLValue(v)) }
}

public struct QueryOptions: Sendable {
    /// The dataflow whose tables answer to unqualified names (`ds_otrainingmodel`).
    public var dataflow: String?
    public var limit: Int
    public var timeout: Duration
    /// The most bytes of values an answer holds; past it the answer stops and says so.
    public var maxBytes: Int
    /// The dataflows the caller may see; others' tables, names and rows are out of reach.
    public var scope: DataflowScope

    public init(dataflow: String? = nil, limit: Int = 10_000, timeout: Duration = .seconds(10),
                maxBytes: Int = 16 << 20, scope: DataflowScope = .all) {
        self.dataflow = dataflow
        self.limit = limit
        self.timeout = timeout
        self.maxBytes = maxBytes
        self.scope = scope
    }

    public static let maxLimit = 1_000_000
}

extension ProvStore {
    /// Runs one read-only SQL statement under the backend's rules (SQLite: `QueryConnection`;
    /// PostgreSQL: a read-only transaction in a role that can only read). The timeout covers
    /// waiting for a connection, running, and building the answer; the answer stops at the row
    /// limit or the byte budget.
    public func query(_ sql: String, options: QueryOptions = .init()) async throws -> QueryResult {
        guard options.limit > 0, options.limit <= QueryOptions.maxLimit else {
            throw ProvError.badRequest("limit must be between 1 and \(QueryOptions.maxLimit)")
        }
        let start = ContinuousClock.now
        var result = try await engine.query(sql, options: options)
        let elapsed = ContinuousClock.now - start
        result.elapsedMs = elapsed.milliseconds
        return result
    }
}

extension SQLiteEngine {
    func query(_ sql: String, options: QueryOptions) async throws -> QueryResult {
        let start = ContinuousClock.now
        let plan = try QueryPlan(sql: sql, dataflow: options.dataflow, scope: options.scope, catalog: catalog)
        var result: QueryResult
        do {
            result = try await queries.run(plan, limit: options.limit, maxBytes: options.maxBytes, deadline: start + options.timeout)
        } catch let error as ProvError {
            throw plan.explained(error)
        }
        return result
    }
}

/// A checked and rewritten user query: the SQL to run, the temporary views it needs, and what
/// the authorizer lets it read.
struct QueryPlan: Sendable {
    struct View: Sendable { var name: String; var select: String }
    var sql: String
    var views: [View]
    var policy: QueryPolicy
    /// For names the query uses that are no table here but a set elsewhere: how to reach them
    /// (said when SQLite answers "no such table").
    var hints: [String: String] = [:]

    static let allowedFirst: Set<String> = ["SELECT", "WITH", "VALUES", "EXPLAIN", "PRAGMA"]
    static let writing: Set<String> = [
        "INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT", "CREATE", "DROP", "ALTER", "ATTACH", "DETACH", "VACUUM",
        "REINDEX", "ANALYZE", "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE",
    ]

    init(sql: String, dataflow: String?, scope: DataflowScope = .all, catalog: Catalog) throws {
        let tokens = try SQLLexer.tokens(sql)
        guard let first = tokens.first else { throw ProvError.badRequest("the query is empty") }
        if let semi = tokens.firstIndex(where: { $0.isPunctuation(";") }),
           tokens[(semi + 1)...].contains(where: { !$0.isPunctuation(";") }) {
            throw ProvError.badRequest("one statement at a time: the query holds more than one")
        }
        let keyword = first.kind == .word ? first.text.uppercased() : ""
        guard Self.allowedFirst.contains(keyword) else {
            if Self.writing.contains(keyword) {
                throw ProvError.forbidden("only read-only queries are allowed (SELECT, WITH, VALUES, EXPLAIN); '\(first.text)' would change the database")
            }
            throw ProvError.badRequest("'\(first.text.clipped(to: 40))' does not start a statement dnnprov knows; queries start with SELECT, WITH, VALUES, EXPLAIN or PRAGMA")
        }
        if keyword == "PRAGMA" {
            let name = tokens.count > 1 ? tokens[1].text.lowercased() : ""
            guard QueryPolicy.pragmas.contains(name), !tokens.contains(where: { $0.isPunctuation("=") }) else {
                throw ProvError.forbidden("only reading PRAGMAs are allowed (\(QueryPolicy.pragmas.sorted().joined(separator: ", ")))")
            }
        }

        // Names resolved through temporary views: the chosen dataflow's sets unqualified,
        // any visible dataflow's sets qualified by its tag.
        let (visible, chosen) = try Self.choose(dataflow, scope: scope, catalog: catalog)
        var views: [String: View] = [:]
        var out = ""
        let bytes = Array(sql.utf8)
        var copied = 0
        var i = 0
        while i < tokens.count {
            let tok = tokens[i]
            let afterDot = i > 0 && tokens[i - 1].isPunctuation(".")
            if tok.isName, !afterDot, i + 2 < tokens.count, tokens[i + 1].isPunctuation("."), tokens[i + 2].isName,
               let df = visible[tok.text.lowercased()],
               let (set, isTable) = Self.setNamed(tokens[i + 2].text, in: df) {
                let name = "\(df.tag).\(isTable ? "ds_" : "")\(set.tag)"
                views[name] = View(name: name, select: Self.select(set))
                out += String(decoding: bytes[copied..<tok.range.lowerBound], as: UTF8.self) + name.quotedIdentifier
                copied = tokens[i + 2].range.upperBound
                i += 3
                continue
            }
            if tok.isName, !afterDot, !(i + 1 < tokens.count && tokens[i + 1].isPunctuation(".")) {
                // An unqualified set name: the chosen dataflow's, or (none chosen) the one visible
                // dataflow that has a set so named. Several: none is guessed; the error says how to choose.
                let holders = chosen == nil ? visible.values.filter { Self.setNamed(tok.text, in: $0) != nil } : []
                if let df = chosen ?? (holders.count == 1 ? holders.first : nil), let (set, isTable) = Self.setNamed(tok.text, in: df) {
                    let name = (isTable ? "ds_" : "") + set.tag
                    views[name] = View(name: name, select: Self.select(set))
                } else if let hint = Self.hint(for: tok.text, chosen: chosen, holders: holders, visible: visible) {
                    hints[tok.text.lowercased()] = hint
                }
                if views[tok.text.lowercased()] == nil,
                   let ids = scope.tags.map({ tags in visible.values.filter { tags.contains($0.tag) }.map(\.id) }),
                   let filter = GlobalSchema.scopedSelect(tok.text.lowercased(), dataflowIDs: ids) {
                    // A scoped caller sees the global tables through views holding only its dataflows' rows.
                    views[tok.text.lowercased()] = View(name: tok.text.lowercased(), select: filter)
                }
            }
            i += 1
        }
        out += String(decoding: bytes[copied...], as: UTF8.self)
        self.sql = out
        self.views = views.values.sorted { $0.name < $1.name }

        // Direct reads: the physical tables of visible sets, the views, and (unscoped) the global tables.
        var tables = Set(visible.values.flatMap { $0.sets.values.map { $0.table.lowercased() } })
        // Unscoped readers may also look at the schema (every dataflow's tables are theirs anyway).
        if scope == .all { tables.formUnion(GlobalSchema.readableTables.union(["sqlite_master", "sqlite_schema"])) }
        let existing = Set(catalog.dataflows.values.flatMap { $0.sets.values.map { $0.table.lowercased() } })
            .union(GlobalSchema.readableTables).union(GlobalSchema.internalTables)
        policy = QueryPolicy(unrestricted: false, tables: tables, views: Set(views.keys), existing: existing)
    }

    /// How to reach a set named `raw` that does not resolve: it is in several dataflows (none
    /// chosen), or not in the chosen one but in others.
    static func hint(for raw: String, chosen: DataflowEntry?, holders: [DataflowEntry], visible: [String: DataflowEntry]) -> String? {
        let name = raw.lowercased()
        let tags: [String]
        if let chosen {
            tags = visible.values.filter { $0.tag != chosen.tag && setNamed(name, in: $0) != nil }.map(\.tag).sorted()
            guard !tags.isEmpty else { return nil }
            let examples = tags.prefix(3).map { "\(sqlName($0)).\(sqlName(name))" }.joined(separator: ", ")
            return "dataflow '\(chosen.tag)' has no '\(name)'; \(tags.count == 1 ? "dataflow" : "dataflows") "
                + "\(tags.map { "'\($0)'" }.joined(separator: ", ")) \(tags.count == 1 ? "has" : "have") it: choose "
                + "\(tags.count == 1 ? "it" : "one") with \"dataflow\": \"\(tags[0])\" (--dataflow in the CLI), or write \(examples)"
        }
        tags = holders.map(\.tag).sorted()
        guard tags.count > 1 else { return nil }
        return "'\(name)' is in several dataflows (\(tags.map { "'\($0)'" }.joined(separator: ", "))): choose one with "
            + "\"dataflow\": \"\(tags[0])\" (--dataflow in the CLI), or qualify the name: "
            + tags.prefix(3).map { "\(sqlName($0)).\(sqlName(name))" }.joined(separator: ", ")
    }

    /// A name as SQL needs it written: bare when it is an identifier, else quoted.
    static func sqlName(_ s: String) -> String { Identifier.isSQLIdentifier(s) ? s : s.quotedIdentifier }

    /// The error with a hint when SQLite did not find a table the plan knows how to reach.
    func explained(_ error: ProvError) -> ProvError {
        let marker = "no such table: "
        guard error.kind == .badRequest, !hints.isEmpty, let r = error.message.range(of: marker) else { return error }
        let missing = error.message[r.upperBound...].prefix { !$0.isWhitespace }.lowercased()
        let bare = missing.hasPrefix("main.") || missing.hasPrefix("temp.") ? String(missing.dropFirst(5)) : missing
        guard let hint = hints[bare] else { return error }
        var e = error
        e.message = "no such table: \(bare); \(hint)".clipped(to: ProvError.maxMessageLength)
        return e
    }

    /// The dataflows the caller may name, and the one whose sets answer to unqualified names:
    /// the one asked for, or the only visible one.
    static func choose(_ dataflow: String?, scope: DataflowScope, catalog: Catalog) throws -> (visible: [String: DataflowEntry], chosen: DataflowEntry?) {
        let visible = catalog.dataflows.filter { scope.contains($0.key) }
        if let tag = dataflow, !tag.isEmpty {
            let normalized = try Identifier.normalizeDataflow(tag)
            guard let df = visible[normalized] else { throw ProvError.notFound("unknown dataflow '\(tag.clipped())'") }
            return (visible, df)
        }
        return (visible, visible.count == 1 ? visible.values.first : nil)
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
        "SELECT \(s.viewColumns.map(\.quotedIdentifier).joined(separator: ", ")) FROM main.\(s.table.quotedIdentifier)"
    }
}

/// How a query's names resolve for a backend that reaches a dataflow's sets through a schema
/// (PostgreSQL's `search_path`) rather than through temporary views: the same rules as
/// ``QueryPlan`` (the chosen dataflow; none chosen, the only visible one, or else the one
/// visible dataflow holding every unqualified set name the query uses), and the hints said
/// when a name is missing.
package struct QueryNameResolution: Sendable {
    /// The dataflow whose sets answer to unqualified names; nil: none.
    package var dataflow: String?
    /// For names that are no table of that dataflow but a set elsewhere: how to reach them.
    package var hints: [String: String]

    package init(sql: String, dataflow: String?, scope: DataflowScope, catalog: Catalog) throws {
        var (visible, chosen) = try QueryPlan.choose(dataflow, scope: scope, catalog: catalog)
        // Unparsable text: the database says what is wrong with it.
        let tokens = (try? SQLLexer.tokens(sql)) ?? []
        var hints: [String: String] = [:]
        var found: [String: DataflowEntry] = [:]
        var ambiguous = false
        for (i, tok) in tokens.enumerated() where tok.isName {
            let afterDot = i > 0 && tokens[i - 1].isPunctuation(".")
            let beforeDot = i + 1 < tokens.count && tokens[i + 1].isPunctuation(".")
            guard !afterDot, !beforeDot else { continue }
            let holders = chosen == nil ? visible.values.filter { QueryPlan.setNamed(tok.text, in: $0) != nil } : []
            if chosen == nil, holders.count == 1, let df = holders.first {
                found[df.tag] = df
            } else if holders.count > 1 {
                ambiguous = true
            }
            if chosen.map({ QueryPlan.setNamed(tok.text, in: $0) == nil }) ?? true,
               let hint = QueryPlan.hint(for: tok.text, chosen: chosen, holders: holders, visible: visible) {
                hints[tok.text.lowercased()] = hint
            }
        }
        if chosen == nil, !ambiguous, found.count == 1 { chosen = found.values.first }
        self.dataflow = chosen?.tag
        self.hints = hints
    }

    /// `error` with the hint for the missing table `missing` (as the database names it, maybe
    /// qualified), said the same way on every backend.
    package func explained(_ error: ProvError, missing: String) -> ProvError {
        let name = missing.lowercased()
        let bare = name.split(separator: ".").last.map(String.init) ?? name
        guard error.kind == .badRequest, let hint = hints[bare] else { return error }
        var e = error
        e.message = "no such table: \(bare); \(hint)".clipped(to: ProvError.maxMessageLength)
        return e
    }
}

import DNNProvModel

/// A user statement checked before it reaches PostgreSQL: exactly one statement, starting with
/// a keyword that reads.
///
/// This is not what keeps queries read-only: the read-only transaction and the reader role
/// (`PostgresQueryEngine`) do that, and the extended query protocol PostgresNIO speaks refuses
/// several statements in one query by itself. The check exists for what the database would
/// allow inside our transaction: `RESET ROLE`, `SET ROLE`, `COMMIT`, `DO` blocks and the like
/// would undo the transaction's settings before the user's statement runs, so they never get there.
struct PostgresQueryStatement: Sendable {
    /// The statement as sent to the server: the user's text without trailing semicolons.
    var sql: String
    /// The first keyword, upper case.
    var keyword: String

    /// Statements that only read. `TABLE t` is `SELECT * FROM t`; `SHOW` reads a setting.
    static let allowedFirst: Set<String> = ["SELECT", "WITH", "VALUES", "TABLE", "EXPLAIN", "SHOW"]

    /// Statements answered 403 rather than 400: they would change the database or the session.
    static let writing: Set<String> = [
        "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "REPLACE", "CREATE", "DROP", "ALTER", "TRUNCATE",
        "GRANT", "REVOKE", "COPY", "SET", "RESET", "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT",
        "SAVEPOINT", "RELEASE", "PREPARE", "EXECUTE", "DEALLOCATE", "DO", "CALL", "LOCK", "VACUUM", "ANALYZE",
        "CLUSTER", "REINDEX", "REFRESH", "LISTEN", "NOTIFY", "UNLISTEN", "DISCARD", "LOAD", "SECURITY",
        "COMMENT", "CHECKPOINT", "DECLARE", "FETCH", "MOVE", "CLOSE", "IMPORT", "REASSIGN",
    ]

    init(_ raw: String) throws(ProvError) {
        let tokens = PostgresQueryLexer.tokens(raw)
        guard let firstIndex = tokens.firstIndex(where: { $0.kind != .semicolon }) else {
            throw ProvError.badRequest("the query is empty")
        }
        // Semicolons may end the statement, not separate it from another.
        if let semi = tokens.firstIndex(where: { $0.kind == .semicolon }),
           tokens[semi...].contains(where: { $0.kind != .semicolon }) {
            throw ProvError.badRequest("one statement at a time: the query holds more than one")
        }
        // `(SELECT ...) UNION (...)`: the keyword is past the opening parentheses.
        let first = tokens[firstIndex...].first { !($0.kind == .other && $0.text == "(") } ?? tokens[firstIndex]
        keyword = first.kind == .word ? first.text.uppercased() : ""
        guard Self.allowedFirst.contains(keyword) else {
            if Self.writing.contains(keyword) {
                throw ProvError.forbidden("only read-only queries are allowed (SELECT, WITH, VALUES, TABLE, EXPLAIN, SHOW); '\(first.text.clipped(to: 40))' would change the database or the session")
            }
            throw ProvError.badRequest("'\(first.text.clipped(to: 40))' does not start a statement dnnprov knows; queries start with SELECT, WITH, VALUES, TABLE, EXPLAIN or SHOW")
        }
        let end = tokens.last { $0.kind != .semicolon }?.range.upperBound ?? raw.utf8.count
        // The statement up to its last token: trailing semicolons and comments go.
        let bytes = Array(raw.utf8)
        sql = String(decoding: bytes[..<end], as: UTF8.self)
    }
}

import CSQLiteHardening
import DNNProvModel
import Foundation
import GRDBSQLite

/// One read-only SQLite connection for user queries, opened with the C API rather than through
/// GRDB: GRDB installs its own authorizer on its connections, and a user query needs ours.
///
/// What a query can reach is decided by SQLite itself, not only by our lexer:
/// - the authorizer allows reading the tables of the caller's scope, the functions of an
///   allowlist and reading PRAGMAs, and denies everything else (writes, `fts3_tokenizer`,
///   `load_extension`, `pragma_database_list`, ATTACH, ...);
/// - defensive mode, no extension loading, no FTS3 tokenizer pointers (CSQLiteHardening);
/// - a length limit on any string or blob it builds (`randomblob(1e9)` fails at once);
/// - a progress handler that stops the statement at its deadline.
///
/// A connection serves one query at a time (`QueryEngine` hands it out).
final class QueryConnection: @unchecked Sendable {
    let handle: OpaquePointer
    private let context: Context

    /// State the C callbacks read through their context pointer.
    final class Context {
        var policy = QueryPolicy.setup
        /// What the authorizer refused last, for the error message.
        var denied: String?
        var deadline = ContinuousClock.Instant.now
    }

    init(path: String, maxValueBytes: Int) throws {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "code \(rc)"
            if let db { sqlite3_close_v2(db) }
            throw ProvError.notFound("cannot open the database for queries: \(message)")
        }
        handle = db
        context = Context()
        guard dnnprov_harden_connection(db) == SQLITE_OK else {
            sqlite3_close_v2(db)
            throw ProvStoreError.storage("cannot harden the query connection")
        }
        sqlite3_limit(db, SQLITE_LIMIT_LENGTH, Int32(clamping: maxValueBytes))
        sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 1_000_000)
        sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0)
        sqlite3_limit(db, SQLITE_LIMIT_WORKER_THREADS, 0)
        sqlite3_busy_timeout(db, 5_000)
        let ctx = Unmanaged.passUnretained(context).toOpaque()
        sqlite3_set_authorizer(db, queryAuthorizer, ctx)
        sqlite3_progress_handler(db, 1_000, queryProgress, ctx)
        // The sorter and temp b-trees spill to files past this cache, instead of growing in memory.
        try? execute("PRAGMA cache_size = -16000")
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs SQL of our own (temporary views), past the authorizer.
    func execute(_ sql: String) throws {
        context.policy = .setup
        context.deadline = .now + .seconds(30)
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard rc == SQLITE_OK else {
            throw ProvStoreError.storage(message.map { String(cString: $0) } ?? "code \(rc)")
        }
    }

    /// Prepares a user statement under `policy`.
    func prepare(_ sql: String, policy: QueryPolicy, deadline: ContinuousClock.Instant) throws -> OpaquePointer {
        context.policy = policy
        context.denied = nil
        context.deadline = deadline
        var stmt: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let rc = sql.withCString { sqlite3_prepare_v2(handle, $0, -1, &stmt, &tail) }
        guard rc == SQLITE_OK, let stmt else {
            throw error(rc)
        }
        return stmt
    }

    /// The error for a failed prepare or step, in our words.
    func error(_ rc: Int32) -> ProvError {
        let message = String(cString: sqlite3_errmsg(handle))
        // A refused function reports SQLITE_ERROR, a refused read SQLITE_AUTH; both leave `denied`.
        if let denied = context.denied, rc & 0xff == SQLITE_AUTH || message.hasPrefix("not authorized") {
            return .forbidden("queries may only read provenance: \(denied) is not allowed")
        }
        switch rc & 0xff {
        case SQLITE_AUTH:
            return .forbidden("queries may only read provenance: this statement is not allowed")
        case SQLITE_INTERRUPT:
            return ProvError(.timeout, "the query ran past its time limit and was stopped")
        case SQLITE_TOOBIG:
            return .tooLarge("a value in the query is larger than the limit of \(sqlite3_limit(handle, SQLITE_LIMIT_LENGTH, -1)) bytes")
        case SQLITE_NOMEM:
            return .tooLarge("the query needs more memory than the server allows")
        default:
            return .badRequest("SQL error: \(message)")
        }
    }
}

/// What one user statement may read: tables it may name directly (lower case). Reads inside our
/// own temporary views are allowed; users cannot create views, so those are always ours.
struct QueryPolicy: Sendable {
    /// Our own statements (creating and dropping the query's views): no checks.
    var unrestricted: Bool
    /// Tables of the main database the statement may read directly.
    var tables: Set<String>
    /// The temporary views made for this statement (PRAGMA table_info may describe them).
    var views: Set<String>
    /// Every real table of the database, readable or not: a column-less read (`count(*)`)
    /// names no schema, and then only these names tell a table from a common table expression.
    var existing: Set<String>

    static let setup = QueryPolicy(unrestricted: true, tables: [], views: [], existing: [])

    /// Whether a read of `table` in `schema` (nil: a column-less read) is allowed.
    func mayRead(_ table: String, schema: String?) -> Bool {
        switch schema {
        case "main": return tables.contains(table)
        case "temp": return views.contains(table)
        case nil:
            if tables.contains(table) || views.contains(table) { return true }
            return !existing.contains(table) && !table.hasPrefix("sqlite_") && !table.hasPrefix("pragma_")
        default: return false
        }
    }

    /// Reading PRAGMA statements allowed, on tables the policy can read.
    static let pragmas: Set<String> = ["table_info", "table_xinfo", "index_list", "index_info", "foreign_key_list"]

    /// Functions a query may call: SQLite's core, date, math, aggregate, window and JSON
    /// functions. Not listed, so refused: fts3_tokenizer, load_extension, sqlite_compileoption_*,
    /// changes, last_insert_rowid, and any function added later.
    static let functions: Set<String> = [
        "abs", "char", "coalesce", "concat", "concat_ws", "format", "glob", "hex", "ifnull", "iif", "instr", "length",
        "like", "likelihood", "likely", "lower", "ltrim", "max", "min", "nullif", "octet_length", "printf", "quote",
        "random", "randomblob", "replace", "round", "rtrim", "sign", "soundex", "substr", "substring", "trim", "typeof",
        "unhex", "unicode", "unlikely", "upper", "zeroblob", "sqlite_version",
        "date", "time", "datetime", "julianday", "unixepoch", "strftime", "timediff",
        "avg", "count", "group_concat", "string_agg", "sum", "total",
        "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value",
        "last_value", "nth_value",
        "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "ceiling", "cos", "cosh", "degrees", "exp",
        "floor", "ln", "log", "log10", "log2", "mod", "pi", "pow", "power", "radians", "sin", "sinh", "sqrt", "tan",
        "tanh", "trunc",
        "json", "json_array", "json_array_length", "json_extract", "json_insert", "json_object", "json_patch",
        "json_remove", "json_replace", "json_set", "json_type", "json_valid", "json_quote", "json_group_array",
        "json_group_object", "json_error_position", "->", "->>",
    ]
}

// Authorizer action codes (sqlite3.h) the policy allows.
private let authSelect: Int32 = 21, authRead: Int32 = 20, authFunction: Int32 = 31, authRecursive: Int32 = 33
private let authPragma: Int32 = 19

/// sqlite3_set_authorizer callback: 0 allows, 1 (SQLITE_DENY) refuses the statement.
private let queryAuthorizer: @convention(c) (
    UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?
) -> Int32 = { ctx, action, a3, a4, database, inView in
    guard let ctx else { return SQLITE_DENY }
    let context = Unmanaged<QueryConnection.Context>.fromOpaque(ctx).takeUnretainedValue()
    let policy = context.policy
    if policy.unrestricted { return SQLITE_OK }
    func name(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0).lowercased() } ?? "" }
    func optionalName(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0).lowercased() } }
    switch action {
    case authSelect, authRecursive:
        return SQLITE_OK
    case authRead:
        // Columns of our temporary views are read in "temp"; what the views read, inside them.
        let table = name(a3)
        if inView != nil || policy.mayRead(table, schema: optionalName(database)) { return SQLITE_OK }
        context.denied = "reading '\(table)'"
        return SQLITE_DENY
    case authFunction:
        let function = name(a4)
        if QueryPolicy.functions.contains(function) { return SQLITE_OK }
        context.denied = "the function \(function)()"
        return SQLITE_DENY
    case authPragma:
        let pragma = name(a3)
        let target = name(a4)
        if QueryPolicy.pragmas.contains(pragma), policy.tables.contains(target) || policy.views.contains(target) { return SQLITE_OK }
        context.denied = "PRAGMA \(pragma)"
        return SQLITE_DENY
    default:
        context.denied = "a statement that is not a read"
        return SQLITE_DENY
    }
}

/// sqlite3_progress_handler callback: a non-zero answer interrupts the statement.
private let queryProgress: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { ctx in
    guard let ctx else { return 1 }
    let context = Unmanaged<QueryConnection.Context>.fromOpaque(ctx).takeUnretainedValue()
    return ContinuousClock.now >= context.deadline ? 1 : 0
}

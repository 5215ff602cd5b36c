import DNNProvModel

/// What the backend-neutral store code (ingestion, registration, summaries, listings, PROV)
/// needs of a database connection: statements with `?` placeholders, rows back, and a fast
/// path for dataset rows. SQLite (GRDB) and PostgreSQL (PostgresNIO) implement it; the SQL the
/// shared code writes is the subset both understand (`ON CONFLICT ... DO NOTHING`, `RETURNING`,
/// `COALESCE`, `CASE`, `EXISTS`, booleans stored as integers). What differs is in `dialect`.
///
/// Calls are synchronous: they run on the writer's thread or a reader's, never on an event loop.
package protocol SQLDatabase: AnyObject {
    var dialect: any SQLDialect { get }
    /// Runs a statement whose result is not read. A backend may send it later, but before the
    /// next statement that reads and before the transaction (or savepoint) ends.
    func execute(_ sql: String, _ arguments: [SQLValue]) throws
    /// Calls `body` with each row in turn until it returns false.
    func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Bool) throws
    /// Inserts rows into one dataset table; `columns` are quoted by the caller.
    func rowInserter(table: String, columns: [String]) throws -> any SQLRowInserter
}

/// Adds rows to one table, in order; a backend may batch them until the next statement.
package protocol SQLRowInserter: AnyObject {
    func insert(_ values: [SQLValue]) throws
}

extension SQLDatabase {
    package func execute(sql: String, arguments: SQLArguments = []) throws {
        try execute(sql, arguments.values)
    }

    package func fetchAll(sql: String, arguments: SQLArguments = []) throws -> [SQLRow] {
        var rows: [SQLRow] = []
        try forEachRow(sql, arguments.values) { rows.append($0); return true }
        return rows
    }

    package func fetchOne(sql: String, arguments: SQLArguments = []) throws -> SQLRow? {
        var first: SQLRow?
        try forEachRow(sql, arguments.values) { first = $0; return false }
        return first
    }

    /// `INSERT ... RETURNING id`: the id of the row just inserted.
    package func insertReturningID(sql: String, arguments: SQLArguments = []) throws -> Int64 {
        guard let row = try fetchOne(sql: sql + " RETURNING id", arguments: arguments), let id = Int64.fromSQL(row[0]) else {
            throw ProvStoreError.storage("an insert returned no id")
        }
        return id
    }

    /// `INSERT ... ON CONFLICT DO NOTHING`, saying whether a row was inserted.
    package func insertIfAbsent(sql: String, arguments: SQLArguments = []) throws -> Bool {
        try fetchOne(sql: sql + " ON CONFLICT DO NOTHING RETURNING 1", arguments: arguments) != nil
    }
}

extension SQLValueConvertible {
    /// The first column of the first row (GRDB's `Int64.fetchOne(db, sql:arguments:)`).
    package static func fetchOne(_ db: any SQLDatabase, sql: String, arguments: SQLArguments = []) throws -> Self? {
        guard let row = try db.fetchOne(sql: sql, arguments: arguments) else { return nil }
        return fromSQL(row[0])
    }

    package static func fetchAll(_ db: any SQLDatabase, sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try db.fetchAll(sql: sql, arguments: arguments).compactMap { fromSQL($0[0]) }
    }
}

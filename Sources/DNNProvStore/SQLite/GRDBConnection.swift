import DNNProvModel
import Foundation
import GRDB
import GRDBSQLite

/// The SQLite side of `SQLDatabase`: a GRDB connection, with every statement prepared once and
/// kept for the life of the connection (the writer runs the same few statements millions of times).
final class GRDBConnection: SQLDatabase {
    let db: Database
    let dialect: any SQLDialect = SQLiteDialect()

    init(_ db: Database) { self.db = db }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        let statement = try db.cachedStatement(sql: sql)
        statement.setUncheckedArguments(StatementArguments(arguments.map(\.databaseValue)))
        try statement.execute()
    }

    func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Bool) throws {
        let statement = try db.cachedStatement(sql: sql)
        statement.setUncheckedArguments(StatementArguments(arguments.map(\.databaseValue)))
        let columns = statement.columnNames
        let cursor = try Row.fetchCursor(statement)
        while let row = try cursor.next() {
            guard try body(SQLRow(columns: columns, values: row.databaseValues.map(SQLValue.init))) else { break }
        }
    }

    func rowInserter(table: String, columns: [String]) throws -> any SQLRowInserter {
        try Inserter(db.makeStatement(sql: """
            INSERT INTO \(dialect.tableSQL(table)) (\(columns.joined(separator: ", "))) \
            VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))
            """), db: db)
    }

    /// The hot path of ingestion (a row per epoch): values are bound straight with SQLite's C
    /// API, without GRDB's argument arrays (one allocation and conversion per value less).
    private final class Inserter: SQLRowInserter {
        let statement: Statement
        let db: Database
        init(_ statement: Statement, db: Database) {
            self.statement = statement
            self.db = db
        }

        func insert(_ values: [SQLValue]) throws {
            let s = statement.sqliteStatement
            sqlite3_reset(s)
            for (i, v) in values.enumerated() {
                let index = CInt(i + 1)
                switch v {
                case .null: sqlite3_bind_null(s, index)
                case .integer(let n): sqlite3_bind_int64(s, index, n)
                case .real(let d): sqlite3_bind_double(s, index, d)
                case .text(let t): sqlite3_bind_text(s, index, t, CInt(t.utf8.count), Self.transient)
                case .blob(let b): _ = b.withUnsafeBytes { sqlite3_bind_blob(s, index, $0.baseAddress, CInt($0.count), Self.transient) }
                }
            }
            let code = sqlite3_step(s)
            guard code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
                                    sql: statement.sql)
            }
        }

        /// SQLite copies the value (the Swift string does not outlive the call).
        private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    }
}

extension SQLValue {
    init(_ v: DatabaseValue) {
        switch v.storage {
        case .null: self = .null
        case .int64(let i): self = .integer(i)
        case .double(let d): self = .real(d)
        case .string(let s): self = .text(s)
        case .blob(let b): self = .blob([UInt8](b))
        }
    }

    var databaseValue: DatabaseValue {
        switch self {
        case .null: return .null
        case .integer(let i): return i.databaseValue
        case .real(let d): return d.databaseValue
        case .text(let s): return s.databaseValue
        case .blob(let b): return Data(b).databaseValue
        }
    }
}

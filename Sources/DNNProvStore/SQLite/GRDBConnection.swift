import DNNProvModel
import Foundation
import GRDB

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
            """))
    }

    private final class Inserter: SQLRowInserter {
        let statement: Statement
        init(_ statement: Statement) { self.statement = statement }
        func insert(_ values: [SQLValue]) throws {
            statement.setUncheckedArguments(StatementArguments(values.map(\.databaseValue)))
            try statement.execute()
        }
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

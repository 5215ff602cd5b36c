/// One row of a result, read by position or by column name, as GRDB's `Row` is.
package struct SQLRow: Sendable {
    package let columns: [String]
    package let values: [SQLValue]

    package init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value at `index` as `T`. A null or a value of another kind read as a non-optional
    /// type is a programming error (the SQL and the type disagree), as in GRDB.
    package subscript<T: SQLValueConvertible>(_ index: Int) -> T {
        guard let v = T.fromSQL(values[index]) else {
            preconditionFailure("column \(index) (\(columns[index])) holds \(values[index]), not \(T.self)")
        }
        return v
    }

    package subscript<T: SQLValueConvertible>(_ name: String) -> T {
        guard let i = index(of: name) else { preconditionFailure("no column \(name) in \(columns)") }
        return self[i]
    }

    package subscript(_ index: Int) -> SQLValue { values[index] }

    package func index(of name: String) -> Int? {
        columns.firstIndex(of: name) ?? columns.firstIndex { $0.lowercased() == name.lowercased() }
    }

    package var count: Int { values.count }
}

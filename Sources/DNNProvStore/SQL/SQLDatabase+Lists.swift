extension SQLDatabase {
    /// Runs `sql(width)` for `values` in chunks of at most 1,024, each padded with nulls to one
    /// of a few widths (16, 256, 1,024), so a list of any length makes few statement shapes to
    /// prepare; `before` and `after` are the statement's other arguments, around the list's.
    /// The statement must ignore the nulls (`x IN (..., NULL)` matches nothing by them).
    package func forEachRow(listing values: [SQLValue], before: [SQLValue] = [], after: [SQLValue] = [],
                            _ sql: (_ width: Int) -> String, _ body: (SQLRow) throws -> Void) throws {
        let most = SQLList.widths.last!
        for start in stride(from: 0, to: values.count, by: most) {
            let part = values[start..<min(start + most, values.count)]
            let width = SQLList.widths.first { $0 >= part.count }!
            let arguments = before + part + Array(repeating: SQLValue.null, count: width - part.count) + after
            try forEachRow(sql(width), arguments) { row in
                try body(row)
                return true
            }
        }
    }
}

/// The arguments of a statement, written as an array literal of mixed values
/// (`[task, f.name, f.path]`), bound to its `?` placeholders in order.
package struct SQLArguments: ExpressibleByArrayLiteral, Sendable {
    package var values: [SQLValue]

    package init(_ values: [SQLValue]) { self.values = values }

    package init(arrayLiteral elements: (any SQLValueConvertible)?...) {
        values = elements.map { $0?.sqlValue ?? .null }
    }
}

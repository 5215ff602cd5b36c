/// Lists of values sent as placeholders (`IN (?, ?)`, `VALUES (?), (?)`): see
/// `SQLDatabase.forEachRow(listing:before:after:_:_:)`.
package enum SQLList {
    /// The widths a list is padded to: few statement shapes whatever its length.
    static let widths = [16, 256, 1_024]

    /// `?, ?, ...`: `count` placeholders, each written as `mark` (`(?)` for a VALUES row).
    package static func placeholders(_ count: Int, mark: String = "?") -> String {
        Array(repeating: mark, count: count).joined(separator: ", ")
    }
}

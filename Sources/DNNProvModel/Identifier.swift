/// Validation of the names users give: dataflow tags, transformation tags, set tags and
/// attribute names. They are case-insensitive and stored in lower case, and shown as given
/// (lower-cased) everywhere. Any reasonable name is accepted, as DfAnalyzer took them:
/// letters, digits, `_`, `-` and `.` (`mnist.v2`, `val-loss`, `top-5`), up to `maxLength`
/// characters. In SQL they are always quoted identifiers (`"val-loss"`); where a name becomes
/// part of a physical table name, a safe identifier is derived from it (`SetEntry.physicalTable`).
/// Names are refused, never cut, when too long.
public enum Identifier {
    public static let maxLength = 128
    public static let maxDataflowLength = 128

    /// Names that would shadow the global provenance tables in the query namespace.
    public static let reserved: Set<String> = [
        "dataflow", "dataflow_version", "data_transformation", "program", "use_program", "data_set",
        "data_dependency", "attribute", "dataflow_execution", "task", "task_dependency", "file",
        "performance", "ingest_key", "idempotency_key", "api_token", "refused_row", "dfa_sent",
        "sqlite_master", "sqlite_schema", "sqlite_sequence",
    ]

    /// Lower-cases and checks a set tag, transformation tag or attribute name.
    public static func normalize(_ raw: String, what: String) throws(ProvError) -> String {
        try check(raw, what: what, limit: maxLength)
    }

    /// Lower-cases and checks a dataflow tag (the same rules as every other name).
    public static func normalizeDataflow(_ raw: String) throws(ProvError) -> String {
        try check(raw, what: "dataflow tag", limit: maxDataflowLength)
    }

    private static func check(_ raw: String, what: String, limit: Int) throws(ProvError) -> String {
        let name = raw.trimmingWhitespace().lowercased()
        guard !name.isEmpty else { throw .badRequest("\(what) is empty") }
        guard name.utf8.count <= limit else {
            throw .badRequest("\(what) '\(raw.clipped())' is \(name.utf8.count) characters long; the limit is \(limit)")
        }
        guard isName(name) else {
            throw .badRequest(
                "\(what) '\(raw.clipped())' must hold only letters, digits, '_', '-' and '.', and start with a letter or '_'")
        }
        if name.hasPrefix("sqlite_") {
            // SQLite keeps names starting with `sqlite_` for itself.
            throw .badRequest("\(what) '\(raw.clipped())' starts with 'sqlite_', which SQLite reserves for itself")
        }
        return name
    }

    /// Letters, digits, `_`, `-`, `.` (ASCII), starting with a letter or `_` (so that a name is
    /// never a number: `/api/dataflows/{id}` takes ids and tags).
    public static func isName(_ s: String) -> Bool {
        guard let first = s.utf8.first, isIdentByte(first), !(first >= 48 && first <= 57) else { return false }
        return s.utf8.allSatisfy { isIdentByte($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    /// A name SQL takes unquoted: `[A-Za-z_][A-Za-z0-9_]*`.
    public static func isSQLIdentifier(_ s: String) -> Bool {
        guard let first = s.utf8.first, !(first >= 48 && first <= 57) else { return false }
        return s.utf8.allSatisfy(isIdentByte)
    }

    /// A safe SQL identifier derived from a name: every byte other than a letter, a digit or `_`
    /// becomes `_` (`mnist.v2` -> `mnist_v2`). Not unique: callers that need uniqueness check.
    public static func sqlSafe(_ name: String) -> String {
        String(decoding: name.utf8.map { isIdentByte($0) ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
    }

    private static func isIdentByte(_ c: UInt8) -> Bool {
        (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}

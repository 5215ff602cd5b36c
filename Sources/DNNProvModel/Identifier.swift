/// Validation of the names that become SQL identifiers (set tags, transformation tags, attribute
/// names) or namespaces (dataflow tags). They are case-insensitive and stored in lower case. The
/// length limits keep every derived name (`ds_<set>`, `<transformation>_task_id`) within the 63
/// bytes of a PostgreSQL identifier, so nothing is ever cut short as DfAnalyzer did.
public enum Identifier {
    public static let maxLength = 55
    public static let maxDataflowLength = 63

    /// Names that would shadow the global provenance tables in the query namespace.
    public static let reserved: Set<String> = [
        "dataflow", "dataflow_version", "data_transformation", "program", "use_program", "data_set",
        "data_dependency", "attribute", "dataflow_execution", "task", "task_dependency", "file",
        "performance", "ingest_key", "idempotency_key", "api_token", "sqlite_master", "sqlite_schema", "sqlite_sequence",
    ]

    /// Lower-cases and checks a set tag, transformation tag or attribute name.
    public static func normalize(_ raw: String, what: String) throws(ProvError) -> String {
        let name = raw.trimmingWhitespace().lowercased()
        guard !name.isEmpty else { throw .badRequest("\(what) is empty") }
        guard name.utf8.count <= maxLength else {
            throw .badRequest("\(what) '\(raw.clipped())' is \(name.utf8.count) characters long; the limit is \(maxLength)")
        }
        guard isSQLIdentifier(name) else {
            throw .badRequest("\(what) '\(raw.clipped())' must start with a letter or '_' and hold only letters, digits and '_'")
        }
        try checkNotReservedPrefix(name, raw: raw, what: what)
        return name
    }

    /// Lower-cases and checks a dataflow tag: an identifier that may also hold '-'.
    public static func normalizeDataflow(_ raw: String) throws(ProvError) -> String {
        let name = raw.trimmingWhitespace().lowercased()
        guard !name.isEmpty else { throw .badRequest("dataflow tag is empty") }
        guard name.utf8.count <= maxDataflowLength else {
            throw .badRequest("dataflow tag '\(raw.clipped())' is \(name.utf8.count) characters long; the limit is \(maxDataflowLength)")
        }
        let ok = name.utf8.allSatisfy { isIdentByte($0) || $0 == UInt8(ascii: "-") }
            && !(name.utf8.first.map { $0 >= 48 && $0 <= 57 } ?? false) && name.utf8.first != UInt8(ascii: "-")
        guard ok else {
            throw .badRequest("dataflow tag '\(raw.clipped())' must start with a letter or '_' and hold only letters, digits, '_' and '-'")
        }
        try checkNotReservedPrefix(name, raw: raw, what: "dataflow tag")
        return name
    }

    /// SQLite keeps names starting with `sqlite_` for itself: a table or view so named cannot be
    /// created, so such tags are refused up front rather than failing inside the store.
    private static func checkNotReservedPrefix(_ name: String, raw: String, what: String) throws(ProvError) {
        if name.hasPrefix("sqlite_") {
            throw .badRequest("\(what) '\(raw.clipped())' starts with 'sqlite_', which SQLite reserves for itself")
        }
    }

    public static func isSQLIdentifier(_ s: String) -> Bool {
        guard let first = s.utf8.first, !(first >= 48 && first <= 57) else { return false }
        return s.utf8.allSatisfy(isIdentByte)
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

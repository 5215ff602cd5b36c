import DNNProvModel

/// The idempotency keys a request names that are already stored, read before its events are
/// stored: a few queries per request instead of a lookup per event. Keys the request
/// stores are added as it goes, so a key sent twice in one request is a retry the second time.
final class IdempotencyKeys {
    private struct Key: Hashable { var dataflow: Int64; var key: String }
    /// Stored keys with their fingerprints; keys looked up and not found are absent from it.
    private var known: [Key: String] = [:]
    /// Keys looked up (found or not): the others are read one by one when met.
    private var looked: Set<Key> = []

    /// Keys per query: a fixed width (unused places are null), so each backend prepares one statement.
    static let chunk = 256

    /// Reads which of the events' keys are stored. Events of unknown dataflows are left to the
    /// per-event path, which refuses them.
    func prefetch(_ events: [TaskEvent], db: any SQLDatabase, catalog: Catalog) throws {
        var byDataflow: [Int64: [String]] = [:]
        for e in events {
            guard let key = e.key,
                  let df = catalog.dataflows[e.dataflow] ?? (try? Identifier.normalizeDataflow(e.dataflow)).flatMap({ catalog.dataflows[$0] })
            else { continue }
            if looked.insert(Key(dataflow: df.id, key: key)).inserted { byDataflow[df.id, default: []].append(key) }
        }
        // A join with the keys as rows, not `key IN (...)`: for a long list PostgreSQL scans every
        // key of the dataflow and filters (24 ms per 256 keys at 150,000 keys), where the join
        // looks each one up in the primary key (0.3 ms). `column1`: VALUES' column in both.
        let rows = Array(repeating: "(?)", count: Self.chunk).joined(separator: ", ")
        let sql = "SELECT i.key, i.fingerprint FROM idempotency_key i JOIN (VALUES \(rows)) AS k ON i.key = k.column1 WHERE i.df_id = ?"
        for (dataflow, keys) in byDataflow {
            for start in stride(from: 0, to: keys.count, by: Self.chunk) {
                let part = keys[start..<min(start + Self.chunk, keys.count)]
                let arguments = part.map(SQLValue.text) + Array(repeating: SQLValue.null, count: Self.chunk - part.count)
                    + [SQLValue.integer(dataflow)]
                try db.forEachRow(sql, arguments) { row in
                    known[Key(dataflow: dataflow, key: row[0])] = row[1]
                    return true
                }
            }
        }
    }

    /// The fingerprint the key is stored with, or nil when it is not stored.
    func fingerprint(of key: String, dataflow: Int64, db: any SQLDatabase) throws -> String? {
        let k = Key(dataflow: dataflow, key: key)
        if looked.contains(k) { return known[k] }
        looked.insert(k)
        known[k] = try String.fetchOne(db, sql: "SELECT fingerprint FROM idempotency_key WHERE df_id = ? AND key = ?",
                                       arguments: [dataflow, key])
        return known[k]
    }

    private var rows: (any SQLRowInserter)?

    /// Where new keys go (one statement for the request: PostgreSQL then sends them as one
    /// multi-row insert).
    func inserter(_ db: any SQLDatabase) throws -> any SQLRowInserter {
        if let rows { return rows }
        let made = try db.rowInserter(table: "idempotency_key", columns: ["df_id", "key", "fingerprint"])
        rows = made
        return made
    }

    func stored(_ key: String, dataflow: Int64, fingerprint: String) {
        let k = Key(dataflow: dataflow, key: key)
        looked.insert(k)
        known[k] = fingerprint
    }
}

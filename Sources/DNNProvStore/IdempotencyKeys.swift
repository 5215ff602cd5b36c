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

    /// Reads which of the events' keys are stored. Events of unknown dataflows are left to the
    /// per-event path, which refuses them.
    func prefetch(_ events: [TaskEvent], db: any SQLDatabase, catalog: Catalog) throws {
        var byDataflow: [Int64: [String]] = [:]
        for e in events {
            guard let key = e.key, let df = catalog.dataflow(named: e.dataflow) else { continue }
            if looked.insert(Key(dataflow: df.id, key: key)).inserted { byDataflow[df.id, default: []].append(key) }
        }
        // Each key looked up in the primary key by a subquery of its own (0.5 ms per 256 keys;
        // a stored key, rare, twice). Not `key IN (...)`, a join with the keys or `EXISTS` (which
        // PostgreSQL makes a join): with statistics behind a fast-growing table PostgreSQL reads
        // every key of the dataflow for those (2 to 24 ms). `column1`: VALUES' column in both.
        let fingerprint = "(SELECT i.fingerprint FROM idempotency_key i WHERE i.df_id = ? AND i.key = k.column1)"
        for (dataflow, keys) in byDataflow {
            let df = SQLValue.integer(dataflow)
            try db.forEachRow(listing: keys.map(SQLValue.text), before: [df], after: [df], { width in
                "SELECT k.column1, \(fingerprint) FROM (VALUES \(SQLList.placeholders(width, mark: "(?)"))) AS k WHERE \(fingerprint) IS NOT NULL"
            }) { row in
                known[Key(dataflow: dataflow, key: row[0])] = row[1]
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

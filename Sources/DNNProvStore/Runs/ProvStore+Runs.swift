import DNNProvModel
import Foundation

extension ProvStore {
    /// The dataflow's runs as `RunsAnswer` JSON, read from the summaries kept at ingestion (one
    /// row per run, never the epoch rows). `staleAfter`: seconds without news after which a
    /// running run is stale.
    public func runsJSON(of dataflow: String, staleAfter: Double) async throws -> [UInt8] {
        let df = try catalog.dataflow(Identifier.normalizeDataflow(dataflow))
        // Read before the rows: an event committed in between is sent again, never missed.
        let seq = feed.lastSeq
        return try await read { db in
            let now = Timestamp.now()
            let nowSeconds = Timestamp.parse(now) ?? 0
            var out: [UInt8] = []
            out.reserveCapacity(1 << 20)
            out.append(contentsOf: "{\"dataflow\":".utf8)
            out.appendJSONString(df.tag)
            out.append(contentsOf: ",\"seq\":\(seq),\"now\":\"\(now)\",\"stale_after\":\(staleAfter),\"runs\":[".utf8)
            var first = true
            try db.forEachRow("""
                SELECT r.exec_id, e.tag, r.status, r.tasks, r.start_time, r.end_time, r.updated_at, e."user", e.host, e.script, r.summary
                FROM run_summary r JOIN dataflow_execution e ON e.id = r.exec_id
                WHERE r.df_id = ? ORDER BY r.exec_id
                """, [df.id.sqlValue]) { row in
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                let run = StoredRun(id: row[0], execution: row[1], status: row[2], tasks: row[3], startTime: row[4], endTime: row[5],
                                    updatedAt: row[6], user: row[7], host: row[8], script: row[9])
                // The stored summary's bytes spliced in as they are: nothing decoded or re-encoded.
                switch row[10] {
                case .text(let summary): run.write(summary: summary.utf8, into: &out, now: nowSeconds, staleAfter: staleAfter)
                case .blob(let summary): run.write(summary: summary, into: &out, now: nowSeconds, staleAfter: staleAfter)
                default: run.write(summary: #"{"metrics":{},"params":{},"tables":{}}"#.utf8, into: &out, now: nowSeconds, staleAfter: staleAfter)
                }
                return true
            }
            out.append(contentsOf: "]}".utf8)
            return out
        }
    }

    /// The dataflow's runs, decoded (the CLI and tests; the server sends `runsJSON` as it is).
    public func runs(of dataflow: String, staleAfter: Double = 300) async throws -> RunsAnswer {
        try JSONDecoder().decode(RunsAnswer.self, from: Data(try await runsJSON(of: dataflow, staleAfter: staleAfter)))
    }
}

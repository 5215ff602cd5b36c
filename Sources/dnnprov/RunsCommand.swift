import ArgumentParser
import DNNProvModel
import Foundation

/// `dnnprov runs TAG`: one line per execution of a dataflow, with its status, start, duration,
/// hyperparameters (the first row of each input set of the first transformation, e.g.
/// itrainingmodel) and last metrics (the last row of each of its output sets, e.g.
/// otrainingmodel). Built on the read-only query API, so `--url` and `--db` give the same answer.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List a dataflow's executions with their hyperparameters and last metrics.")

    @OptionGroup var source: SourceOptions
    @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table
    @Argument(help: "The dataflow tag.") var tag: String

    func run() async throws {
        try await reportingErrors {
            print(try Output.render(try await runs(), as: format), terminator: "")
        }
    }

    private func q(_ sql: String) async throws -> QueryResult {
        try await source.query(sql, dataflow: tag, limit: 100_000)
    }

    func runs() async throws -> QueryResult {
        let df = "lower(d.tag) = lower(\(Self.literal(tag)))"
        let executions = try await q("""
            SELECT e.id, e.tag,
              coalesce(e.start_time, min(t.start_time)) AS start_time,
              CASE WHEN sum(t.status IN ('RUNNING', 'READY')) > 0 THEN 'RUNNING'
                   WHEN sum(t.status IN ('FAILED', 'FINISHED_WITH_ERROR')) > 0 THEN 'FAILED'
                   WHEN count(t.id) = 0 THEN 'RUNNING'
                   ELSE 'FINISHED' END AS status,
              (julianday(CASE WHEN count(t.id) = 0 OR sum(t.status IN ('RUNNING', 'READY')) > 0 THEN 'now'
                              ELSE coalesce(e.end_time, max(t.end_time), 'now') END)
               - julianday(coalesce(e.start_time, min(t.start_time)))) * 86400.0 AS seconds
            FROM dataflow_execution e JOIN dataflow d ON d.id = e.df_id LEFT JOIN task t ON t.df_exec = e.id
            WHERE \(df) GROUP BY e.id ORDER BY e.id
            """)
        if executions.rows.isEmpty {
            let known = try await q("SELECT count(*) FROM dataflow d WHERE \(df)")
            if case .integer(0) = known.rows.first?.first ?? .null { throw CLIError("no dataflow '\(tag)'") }
        }
        // The first transformation's sets, in the order they were declared.
        let sets = try await q("""
            SELECT dt.tag AS transformation, ds.tag AS set_tag, dd.next_dt_id = dt.id AS is_input, ds.id AS ds_id
            FROM dataflow d JOIN data_transformation dt ON dt.df_id = d.id
              JOIN data_dependency dd ON dd.next_dt_id = dt.id OR dd.previous_dt_id = dt.id
              JOIN data_set ds ON ds.id = dd.ds_id
            WHERE \(df) AND dt.id = (SELECT min(x.id) FROM data_transformation x WHERE x.df_id = d.id)
            ORDER BY dd.next_dt_id = dt.id DESC, ds.id
            """)
        let attributes = try await q("""
            SELECT ds.tag, a.name FROM attribute a JOIN data_set ds ON ds.id = a.ds_id JOIN dataflow d ON d.id = ds.df_id
            WHERE \(df) ORDER BY ds.id, a.position
            """)
        var names: [String: [String]] = [:]
        for row in attributes.rows { names[row[0].display, default: []].append(row[1].display) }

        // (header, values by execution id)
        var columns: [(String, [Int64: QueryValue])] = []
        var seen = Set<String>()
        var done = Set<String>()
        for row in sets.rows {
            let transformation = row[0].display, set = row[1].display
            let isInput: Bool
            switch row[2] { case .integer(let v): isInput = v != 0; default: isInput = false }
            guard done.insert(set).inserted, let attrs = names[set], !attrs.isEmpty else { continue }
            let pick = isInput ? "min" : "max"
            let taskColumn = Self.identifier("\(transformation)_task_id")
            let values = try await q("""
                SELECT t.df_exec, \(pick)(s.id), \(attrs.map { "s.\(Self.identifier($0))" }.joined(separator: ", "))
                FROM \(Self.identifier("ds_\(set)")) s JOIN task t ON t.id = s.\(taskColumn)
                GROUP BY t.df_exec
                """)
            for (i, a) in attrs.enumerated() {
                var byExecution: [Int64: QueryValue] = [:]
                for v in values.rows { if case .integer(let e) = v[0] { byExecution[e] = v[i + 2] } }
                let header = seen.insert(a.lowercased()).inserted ? a : "\(set).\(a)"
                columns.append((header, byExecution))
            }
        }
        let header = ["execution", "status", "start", "duration"] + columns.map(\.0)
        let rows: [[QueryValue]] = executions.rows.map { e in
            guard case .integer(let id) = e[0] else { return [] }
            var seconds: Double?
            switch e[4] {
            case .real(let s): seconds = s
            case .integer(let s): seconds = Double(s)
            default: seconds = nil
            }
            return [e[1], e[3], e[2], seconds.map { .text(Age.duration($0)) } ?? .null] + columns.map { Self.plain($0.1[id] ?? .null) }
        }
        return QueryResult(columns: header.map { .init(name: $0, type: "") }, rows: rows, truncated: false, elapsedMs: 0)
    }

    /// Whole numbers as integers: a server's JSON answer and the file read directly then print alike (2, not 2.0).
    static func plain(_ v: QueryValue) -> QueryValue {
        if case .real(let d) = v, d.isFinite, d == d.rounded(), abs(d) < 1e15 { return .integer(Int64(d)) }
        return v
    }

    static func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
    static func identifier(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

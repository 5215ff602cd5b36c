import DNNProvModel
import Foundation

extension ProvStore {
    /// The dataflow's dashboard: its built-in charts, then the saved ones, oldest first.
    public func charts(of dataflow: String) async throws -> [SavedChart] {
        let df = try catalog.dataflow(Identifier.normalizeDataflow(dataflow))
        let saved = try await read { db in
            try db.fetchAll(sql: "SELECT id, title, sql, chart, created_at FROM saved_chart WHERE df_id = ? ORDER BY id",
                             arguments: [df.id]).compactMap { row -> SavedChart? in
                guard let chart = try? JSONDecoder().decode(ChartSpec.self, from: Data((row["chart"] as String).utf8)) else { return nil }
                return SavedChart(id: String(row["id"] as Int64), dataflow: df.tag, title: row["title"], sql: row["sql"], chart: chart,
                                  createdAt: row["created_at"], builtin: false)
            }
        }
        return BuiltinCharts.charts(for: df) + saved
    }

    /// Keeps a chart on its dataflow's dashboard. Its SQL must be one read-only statement.
    public func saveChart(_ request: ChartRequest) async throws -> SavedChart {
        let df = try catalog.dataflow(Identifier.normalizeDataflow(request.dataflow))
        let title = request.title.trimmingCharacters()
        guard !title.isEmpty, title.count <= ChartRequest.maxTitleLength else {
            throw ProvError.badRequest("a chart needs a title of 1 to \(ChartRequest.maxTitleLength) characters")
        }
        guard request.sql.utf8.count <= ChartRequest.maxSQLBytes else {
            throw ProvError.tooLarge("a chart's SQL is limited to \(ChartRequest.maxSQLBytes) bytes")
        }
        let spec = request.chart
        let names = [spec.x] + spec.y + (spec.group.map { [$0] } ?? [])
        guard !spec.y.isEmpty, spec.y.count <= SeriesRequest.maxAttributes,
              names.allSatisfy({ !$0.isEmpty && $0.count <= Identifier.maxLength }) else {
            throw ProvError.badRequest("a chart names its x column, 1 to \(SeriesRequest.maxAttributes) y columns and optionally a group column")
        }
        // Refused now rather than on every dashboard load.
        _ = try QueryPlan(sql: request.sql, dataflow: df.tag, catalog: catalog)
        let chart = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        let sql = request.sql
        return try await write { db, _ in
            let now = Timestamp.now()
            let id = try db.insertReturningID(sql: "INSERT INTO saved_chart(df_id, title, sql, chart, created_at) VALUES (?, ?, ?, ?, ?)",
                                              arguments: [df.id, title, sql, chart, now])
            return SavedChart(id: String(id), dataflow: df.tag, title: title, sql: sql, chart: spec,
                              createdAt: now, builtin: false)
        }
    }

    /// Removes a saved chart; `scope` limits it to the caller's dataflows. Answers the removed chart.
    public func deleteChart(id raw: String, scope: DataflowScope) async throws -> SavedChart {
        guard let id = Int64(raw) else {
            throw raw.hasPrefix("seed-") ? ProvError.conflict("built-in charts cannot be deleted") : ProvError.notFound("no chart '\(raw.clipped())'")
        }
        let catalog = self.catalog
        let tags = Dictionary(uniqueKeysWithValues: catalog.dataflows.values.map { ($0.id, $0.tag) })
        return try await write { db, _ in
            guard let row = try db.fetchOne(sql: "SELECT df_id, title, sql, chart, created_at FROM saved_chart WHERE id = ?", arguments: [id]),
                  let tag = tags[row["df_id"] as Int64], scope.contains(tag) else {
                throw ProvError.notFound("no chart '\(raw.clipped())'")
            }
            try db.execute(sql: "DELETE FROM saved_chart WHERE id = ?", arguments: [id])
            let chart = (try? JSONDecoder().decode(ChartSpec.self, from: Data((row["chart"] as String).utf8))) ?? ChartSpec(type: .line, x: "", y: [])
            return SavedChart(id: raw, dataflow: tag, title: row["title"], sql: row["sql"], chart: chart, createdAt: row["created_at"], builtin: false)
        }
    }
}

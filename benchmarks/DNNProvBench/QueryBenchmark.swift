import ArgumentParser
import DNNProvModel
import DNNProvStore
import Foundation

/// The seeds' queries on a store of `executions` runs x `epochs` epochs, timed through
/// `ProvStore.query` (what `POST /api/v1/query` runs).
struct QueryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queries", abstract: "Times Q1-Q8 and the seed-000 queries on 10,000 runs x 100 epochs.")

    @OptionGroup var data: BenchStoreOptions
    @Option(help: "Timed runs per query.") var runs = 20

    func run() async throws {
        try await data.withStore { store in

            let ids = try await store.query(
                "select trainingmodel_task_id from ds_itrainingmodel order by trainingmodel_task_id",
                options: QueryOptions(dataflow: BenchWorkload.dataflow, limit: QueryOptions.maxLimit))
            let trainings = ids.rows.compactMap { row -> Int64? in if case .integer(let i) = row[0] { return i } else { return nil } }
            guard trainings.count > 2 else { throw BenchError("no trainings in the store") }
            let t = trainings[trainings.count / 2]
            let t2 = trainings[trainings.count / 2 + 1]
            print("training t = \(t) (mid-range of \(grouped(Double(trainings.count)))), t2 = \(t2); \(runs) runs per query; SQLite via ProvStore.query")
            print("")
            print("\(padded("query", 40)) \(padded("median ms", 10)) \(padded("max ms", 10)) \(padded("rows", 9)) target")
            var missed: [(SeedQuery, String)] = []
            for q in SeedQueries.all {
                let sql = q.sql.replacingOccurrences(of: ":t2", with: String(t2)).replacingOccurrences(of: ":t", with: String(t))
                let options = QueryOptions(dataflow: BenchWorkload.dataflow, limit: q.limit, timeout: .seconds(120))
                var times: [Double] = []
                var rows = 0
                var truncated = false
                for i in 0..<runs {
                    let start = ContinuousClock.now
                    let r = try await store.query(sql, options: options)
                    times.append((ContinuousClock.now - start).milliseconds)
                    rows = r.rows.count
                    truncated = r.truncated
                    // Slow queries: fewer runs, so the benchmark ends.
                    if i == 2, times.max()! > 2000 { break }
                }
                let p = Percentiles(times)
                let ok = p.median < q.targetMs
                let verdict = "\(q.scope == .oneRun ? "one run" : "all runs") < \(Int(q.targetMs)) ms: \(ok ? "met" : "MISSED")"
                print("\(padded(q.name, 40)) \(padded(fixed(p.median), 10)) \(padded(fixed(p.max), 10)) \(padded(String(rows) + (truncated ? "+" : ""), 9)) \(verdict)")
                if !ok {
                    let plan = try await store.query("explain query plan " + sql, options: QueryOptions(dataflow: BenchWorkload.dataflow))
                    missed.append((q, plan.rows.map { $0.last?.display ?? "" }.joined(separator: " | ")))
                }
            }
            print("(rows with + were cut at the query's limit, as the API does by default)")
            if !missed.isEmpty {
                print("")
                print("query plans of the missed queries:")
                for (q, plan) in missed { print("  \(q.name): \(plan)") }
            }
        }
    }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}

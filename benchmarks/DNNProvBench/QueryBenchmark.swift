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
    @Option(help: "A second database with the same workload (a postgresql:// URL, say): each query runs on both, alternately, and the table shows both.")
    var compare: String?

    func run() async throws {
        try await data.withStore { store in
            var other: ProvStore?
            if let compare {
                other = try await BenchWorkload.store(at: compare, executions: data.executions, epochs: data.epochs)
            }
            defer { other?.close() }
            try await run(on: store, other: other)
        }
    }

    private func run(on store: ProvStore, other: ProvStore?) async throws {
        do {

            let ids = try await store.query(
                "select trainingmodel_task_id from ds_itrainingmodel order by trainingmodel_task_id",
                options: QueryOptions(dataflow: BenchWorkload.dataflow, limit: QueryOptions.maxLimit))
            let trainings = ids.rows.compactMap { row -> Int64? in if case .integer(let i) = row[0] { return i } else { return nil } }
            guard trainings.count > 2 else { throw BenchError("no trainings in the store") }
            let t = trainings[trainings.count / 2]
            let t2 = trainings[trainings.count / 2 + 1]
            print("training t = \(t) (mid-range of \(grouped(Double(trainings.count)))), t2 = \(t2); \(runs) runs per query; \(store.backend) via ProvStore.query"
                  + (other.map { " beside \($0.backend) (\($0.location))" } ?? ""))
            // The same trainings on the other store: it was filled by the same workload in the same order.
            print("")
            let otherHeader = other.map { "\(padded("\($0.backend) median", 18)) \(padded("max ms", 10)) \(padded("rows", 9)) \(padded("target", 26)) " } ?? ""
            print("\(padded("query", 40)) \(padded("\(store.backend) median", 18)) \(padded("max ms", 10)) \(padded("rows", 9)) \(padded("target", 26)) \(otherHeader)")
            var missed: [(SeedQuery, String)] = []
            for q in SeedQueries.all {
                let sql = q.sql.replacingOccurrences(of: ":t2", with: String(t2)).replacingOccurrences(of: ":t", with: String(t))
                let options = QueryOptions(dataflow: BenchWorkload.dataflow, limit: q.limit, timeout: .seconds(120))
                let stores = [store] + (other.map { [$0] } ?? [])
                var times = Array(repeating: [Double](), count: stores.count)
                var rows = Array(repeating: 0, count: stores.count)
                var truncated = Array(repeating: false, count: stores.count)
                for i in 0..<runs {
                    // Alternately, so that the machine's other load falls on both.
                    for (k, s) in stores.enumerated() {
                        let start = ContinuousClock.now
                        let r = try await s.query(sql, options: options)
                        times[k].append((ContinuousClock.now - start).milliseconds)
                        rows[k] = r.rows.count
                        truncated[k] = r.truncated
                    }
                    // Slow queries: fewer runs, so the benchmark ends.
                    if i == 2, times.joined().max()! > 2000 { break }
                }
                var line = padded(q.name, 40)
                var ok = true
                for k in stores.indices {
                    let p = Percentiles(times[k])
                    let met = p.median < q.targetMs
                    ok = ok && (k > 0 || met)
                    let verdict = "\(q.scope == .oneRun ? "one run" : "all runs") < \(Int(q.targetMs)) ms: \(met ? "met" : "MISSED")"
                    line += " \(padded(fixed(p.median), 18)) \(padded(fixed(p.max), 10)) \(padded(String(rows[k]) + (truncated[k] ? "+" : ""), 9)) \(padded(verdict, 26))"
                }
                print(line)
                if !ok, store.backend == "sqlite" {
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

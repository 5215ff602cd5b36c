import ArgumentParser
import DNNProvModel
import DNNProvStore
import Foundation

/// What the web UI's runs table and charts cost the server on 10,000 runs x 100 epochs: the
/// runs answer built from the summaries kept at ingestion (target < 50 ms), side by side with
/// the same table aggregated from the epoch rows by SQL (what a summary-less tracker does), and
/// the series of 20 runs as the charts ask for them.
struct RunsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "Times the runs table's summary answer and chart series on 10,000 runs x 100 epochs.")

    @OptionGroup var data: BenchStoreOptions
    @Option(help: "Timed repetitions.") var repeats = 20

    func run() async throws {
        try await data.withStore { store in
            let df = BenchWorkload.dataflow

            func time(_ body: () async throws -> Int) async throws -> (Percentiles, Int) {
                var times: [Double] = []
                var size = 0
                for _ in 0..<repeats {
                    let start = ContinuousClock.now
                    size = try await body()
                    times.append((ContinuousClock.now - start).milliseconds)
                }
                return (Percentiles(times), size)
            }
            print("\(grouped(Double(data.executions))) runs x \(data.epochs) epochs; \(repeats) repetitions each; SQLite")
            print("")
            print("\(padded("what", 58)) \(padded("median ms", 10)) \(padded("p99 ms", 8)) answer")
            let (summaries, bytes) = try await time { try await store.runsJSON(of: df, staleAfter: 300).count }
            let runs = try await store.runs(of: df)
            print("\(padded("runs table from summaries (GET .../runs)", 58)) \(padded(fixed(summaries.median), 10)) \(padded(fixed(summaries.p99), 8)) \(grouped(Double(runs.runs.count))) runs, \(grouped(Double(bytes))) bytes; target < 50 ms: \(summaries.median < 50 ? "met" : "MISSED")")

            // The same per-run last/best values aggregated from the epoch rows, for comparison.
            let aggregate = """
                select t.df_exec, count(*), max(o.accuracy), min(o.loss), max(o.val_accuracy), min(o.val_loss), max(o.epoch)
                from ds_otrainingmodel o join task t on t.id = o.trainingmodel_task_id group by t.df_exec
                """
            let (sql, rows) = try await time {
                try await store.query(aggregate, options: QueryOptions(dataflow: df, limit: QueryOptions.maxLimit, timeout: .seconds(120))).rows.count
            }
            print("\(padded("same per-run values aggregated by SQL from epoch rows", 58)) \(padded(fixed(sql.median), 10)) \(padded(fixed(sql.p99), 8)) \(grouped(Double(rows))) rows (\(fixed(sql.median / max(summaries.median, 0.001), 1))x the summaries)")

            let chosen = runs.runs.prefix(20).map(\.id)
            let (series, points) = try await time {
                try await store.series(of: df, SeriesRequest(set: "otrainingmodel", y: ["loss", "val_loss"], x: "epoch", runs: chosen))
                    .series.reduce(0) { $0 + $1.x.count }
            }
            print("\(padded("series of 20 runs, loss and val_loss by epoch", 58)) \(padded(fixed(series.median), 10)) \(padded(fixed(series.p99), 8)) \(grouped(Double(points))) points")
        }
    }
}

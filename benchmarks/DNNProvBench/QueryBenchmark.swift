import ArgumentParser
import DNNProvModel
import DNNProvStore
import Foundation

/// The seeds' queries on a store of `executions` runs x `epochs` epochs, timed through
/// `ProvStore.query` (what `POST /api/v1/query` runs).
struct QueryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queries", abstract: "Times Q1-Q8 and the seed-000 queries on 10,000 runs x 100 epochs.")

    @Option(help: "Runs (executions, one training each).") var executions = 10_000
    @Option(help: "Epochs per run.") var epochs = 100
    @Option(help: "Database file; reused when it already holds the data, else populated (default: a temporary file).")
    var db: String?
    @Option(help: "Timed runs per query.") var runs = 20

    func run() async throws {
        var scratch: String?
        let path: String
        if let db {
            path = db
        } else {
            let dir = try scratchDirectory("dnnprov-queries")
            scratch = dir
            path = (dir as NSString).appendingPathComponent("queries.sqlite")
        }
        defer { if let scratch { try? FileManager.default.removeItem(atPath: scratch) } }

        let store = try ProvStore(path: path)
        defer { store.close() }
        let existing = (try? await count(store, "select count(*) from ds_otrainingmodel")) ?? 0
        if existing >= executions * epochs {
            print("reusing \(path): \(grouped(Double(existing))) epoch rows")
        } else if existing > 0 {
            throw BenchError("\(path) holds \(existing) epoch rows, fewer than \(executions * epochs); pass another --db")
        } else {
            try await populate(store)
        }

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

    private func count(_ store: ProvStore, _ sql: String) async throws -> Int {
        let r = try await store.query(sql, options: QueryOptions(dataflow: BenchWorkload.dataflow))
        guard case .integer(let n)? = r.rows.first?.first else { return 0 }
        return Int(n)
    }

    /// Runs of the workload through `ProvStore.ingest`, 100 runs per call: filters, training
    /// (hyperparameters, layers, epochs), an adaptation, a test.
    private func populate(_ store: ProvStore) async throws {
        let start = ContinuousClock.now
        _ = try await store.register(BenchWorkload.spec)
        let df = BenchWorkload.dataflow
        var pending: [TaskEvent] = []
        for run in 0..<executions {
            let exec = "run-\(run)"
            let training = TaskRef(transformation: "trainingmodel", task: "1")
            pending.append(TaskEvent(dataflow: df, execution: exec, transformation: "filters", task: "f", status: .finished,
                                     sets: [ElementSet(tag: "ofilters", elements: [[.text(BenchWorkload.filters[run % 5])]])]))
            var layers = BenchWorkload.layers
            layers[5] = BenchWorkload.dropoutLayer(run: run)
            pending.append(TaskEvent(dataflow: df, execution: exec, transformation: "trainingmodel", task: "1", status: .running,
                                     dependencies: [TaskRef(transformation: "filters", task: "f")],
                                     sets: [ElementSet(tag: "itrainingmodel", elements: [BenchWorkload.hyperparameters(run: run)]),
                                            ElementSet(tag: "ilayers", elements: layers)]))
            let stamp = "2026-11-25T10:00:00"
            let rows = (1...epochs).map { BenchWorkload.epochRow(run: run, epoch: $0, timestamp: stamp) }
            pending.append(TaskEvent(dataflow: df, execution: exec, transformation: "trainingmodel", task: "1", status: .finished,
                                     sets: [ElementSet(tag: "otrainingmodel", elements: rows)]))
            pending.append(TaskEvent(dataflow: df, execution: exec, transformation: "adaptation", task: "2", status: .finished,
                                     dependencies: [training],
                                     sets: [ElementSet(tag: "iadaptation", elements: [[.number(10), .number(0.5), .number(0.001)]]),
                                            ElementSet(tag: "oadaptation", elements: [[.number(0.0005), .text(stamp), .number(10), .number(1)],
                                                                                      [.number(0.00025), .text(stamp), .number(20), .number(2)]])]))
            pending.append(TaskEvent(dataflow: df, execution: exec, transformation: "testingmodel", task: "3", status: .finished,
                                     dependencies: [training],
                                     sets: [ElementSet(tag: "otestingmodel", elements: [[.number(0.8), .number(0.5), .number(Double(epochs))]])]))
            if (run + 1) % 100 == 0 || run == executions - 1 {
                _ = try await store.ingest(pending)
                pending.removeAll(keepingCapacity: true)
                if (run + 1) % 1000 == 0 {
                    print("  populated \(run + 1) runs (\(fixed((ContinuousClock.now - start).milliseconds / 1000, 1)) s)")
                }
            }
        }
        print("populated \(grouped(Double(executions))) runs x \(epochs) epochs in \(fixed((ContinuousClock.now - start).milliseconds / 1000, 1)) s")
    }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}

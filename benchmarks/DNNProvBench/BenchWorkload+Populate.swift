import DNNProvModel
import DNNProvPostgres
import DNNProvStore
import Foundation

extension BenchWorkload {
    /// The store at `path` holding `executions` runs x `epochs` epochs: reused when it already
    /// holds them, populated when empty.
    static func store(at path: String, executions: Int, epochs: Int) async throws -> ProvStore {
        let store = try ProvStore.open(path)
        let existing = (try? await count(store, "select count(*) from ds_otrainingmodel")) ?? 0
        if existing >= executions * epochs {
            print("reusing \(path): \(grouped(Double(existing))) epoch rows")
        } else if existing > 0 {
            store.close()
            throw BenchError("\(path) holds \(existing) epoch rows, fewer than \(executions * epochs); pass another --db")
        } else {
            try await populate(store, executions: executions, epochs: epochs)
        }
        return store
    }

    private static func count(_ store: ProvStore, _ sql: String) async throws -> Int {
        let r = try await store.query(sql, options: QueryOptions(dataflow: dataflow))
        guard case .integer(let n)? = r.rows.first?.first else { return 0 }
        return Int(n)
    }

    /// Runs of the workload through `ProvStore.ingest`, 100 runs per call: filters, training
    /// (hyperparameters, layers, epochs), an adaptation, a test.
    static func populate(_ store: ProvStore, executions: Int, epochs: Int) async throws {
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

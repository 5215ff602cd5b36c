import ArgumentParser
import DNNProvStore
import Foundation

/// The store the read benchmarks run on: `executions` runs x `epochs` epochs of the workload,
/// in `--db` (reused when it already holds them) or in a temporary file removed afterwards.
struct BenchStoreOptions: ParsableArguments {
    @Option(help: "Runs (executions, one training each).") var executions = 10_000
    @Option(help: "Epochs per run.") var epochs = 100
    @Option(help: "Database: a SQLite file or a postgresql:// URL; reused when it already holds the data, else populated (default: a temporary file).")
    var db: String?

    /// Opens (populating when needed) the store, runs `body` on it, then closes it and removes
    /// a temporary file.
    func withStore<T>(_ body: (ProvStore) async throws -> T) async throws -> T {
        var scratch: String?
        let path: String
        if let db {
            path = db
        } else {
            let dir = try scratchDirectory("dnnprov-bench-store")
            scratch = dir
            path = (dir as NSString).appendingPathComponent("bench.sqlite")
        }
        defer { if let scratch { try? FileManager.default.removeItem(atPath: scratch) } }
        let store = try await BenchWorkload.store(at: path, executions: executions, epochs: epochs)
        defer { store.close() }
        return try await body(store)
    }
}

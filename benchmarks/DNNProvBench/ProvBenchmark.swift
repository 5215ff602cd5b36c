import ArgumentParser
import DNNProvClient
import NIOCore
import DNNProvModel
import DNNProvStore
import Foundation

/// W3C PROV export and lineage on the 10,000-runs x 100-epochs store: records per second and
/// the peak RSS of the real `dnnprov export` process (PROV-JSON, PROV-N), and the time to answer
/// the lineage of one element.
struct ProvBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prov",
        abstract: "PROV export (records/s, peak RSS of the dnnprov process) and lineage latency on the runs store.")

    @OptionGroup var data: BenchStoreOptions
    @Option(help: "The dnnprov binary (release build).") var binary = ".build/release/dnnprov"
    @Option(help: "Formats to export.") var formats = "prov-json,prov-n"
    @Option(help: "Timed lineage repetitions.") var repeats = 20
    @Flag(help: "Also export through a `dnnprov serve` process over HTTP (GET .../prov).") var server = false

    func run() async throws {
        try await data.withStore { store in
            let df = BenchWorkload.dataflow
            // Lineage of one element: the last epoch of a run in the middle, back and forward.
            let row = try await store.query("select max(id) as id from ds_otrainingmodel where trainingmodel_task_id = (select trainingmodel_task_id from ds_otrainingmodel where id = (select max(id) / 2 from ds_otrainingmodel))",
                                            options: QueryOptions(dataflow: df, limit: 1)).rows[0][0]
            guard case .integer(let id) = row else { throw BenchError("no row to trace") }
            for direction in [LineageDirection.back, .forward, .both] {
                var times: [Double] = []
                var nodes = 0
                for _ in 0..<repeats {
                    let start = ContinuousClock.now
                    nodes = try await store.lineage(of: df, set: "otrainingmodel", row: id, direction: direction, depth: 10).nodes.count
                    let d = ContinuousClock.now - start
                    times.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
                }
                let p = Percentiles(times)
                print("lineage \(direction.rawValue) of otrainingmodel #\(id): \(nodes) nodes, median \(fixed(p.median, 2)) ms, p95 \(fixed(p.at(95), 2)) ms")
            }
            for name in formats.split(separator: ",") {
                let format = try ProvFormat.parse(String(name))
                // The real CLI process, for its memory; the records it wrote, counted in-process.
                let started = Date()
                let p = Process()
                p.executableURL = URL(fileURLWithPath: binary)
                p.arguments = ["export", df, "--db", store.location, "--format", format.rawValue, "--output", "/dev/null"]
                try p.run()
                var peak = 0
                while p.isRunning {
                    if let kb = Self.status(pid: p.processIdentifier, field: "VmHWM") { peak = max(peak, kb) }
                    try await Task.sleep(for: .milliseconds(20))
                }
                p.waitUntilExit()
                let wall = Date().timeIntervalSince(started)
                guard p.terminationStatus == 0 else { throw BenchError("dnnprov export exited with \(p.terminationStatus)") }
                let job = try await store.provExport(df, scope: ProvScope(), format: format)
                let stats = try job.write { _ in }
                if server {
                    let srv = try ServerProcess(binary: binary, database: store.location)
                    defer { srv.stop() }
                    try await srv.waitUntilReady()
                    let before = srv.memory().current ?? 0
                    let t0 = Date()
                    var bytes = 0
                    try await ServerClient(url: srv.url).exportProv(dataflow: df, format: format) { bytes += $0.readableBytes }
                    let w = Date().timeIntervalSince(t0)
                    let m = srv.memory()
                    print("server export \(format.rawValue): \(fixed(Double(bytes) / 1e6, 0)) MB over HTTP in \(fixed(w, 1)) s: \(grouped(Double(stats.records) / w)) records/s, server RSS \(fixed(Double(before) / 1024, 1)) MB before, peak \(fixed(Double(max(m.hwm ?? 0, m.polledPeak)) / 1024, 1)) MB")
                }
                print("export \(format.rawValue): \(grouped(Double(stats.records))) records (\(grouped(Double(stats.entities))) entities, \(grouped(Double(stats.relations))) relations), \(fixed(Double(stats.bytes) / 1e6, 0)) MB in \(fixed(wall, 1)) s: \(grouped(Double(stats.records) / wall)) records/s, peak RSS \(fixed(Double(peak) / 1024, 1)) MB")
            }
        }
    }

    static func status(pid: Int32, field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ").dropFirst().first { !$0.isEmpty }.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "")
        }
        return nil
    }
}

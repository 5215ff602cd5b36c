import ArgumentParser
import DNNProvClient
import DNNProvModel
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What one capture call costs the training loop: `ProvTask.save(set:row:)` (builds the event,
/// then enqueues) and `ProvenanceClient.enqueue` (a prebuilt event), timed call by call.
struct EnqueueBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue", abstract: "Per-call cost of the Swift client's capture path (ns).")

    @Option(help: "A dnnprov binary to start as the running server.") var server: String?
    @Option(help: "A running server to point at instead (e.g. http://127.0.0.1:22000).") var url: String?
    @Option(help: "Timed calls per measurement.") var calls = 200_000
    @Option(help: "Calls per round; the loop pauses 20 ms between rounds, as training does between epochs.")
    var round = 10_000

    func run() async throws {
        var proc: ServerProcess?
        defer { proc?.stop() }
        var targets: [(String, String)] = []
        if let server {
            let p = try ServerProcess(binary: server)
            proc = p
            try await p.waitUntilReady()
            targets.append(("sender -> running server", p.url))
        } else if let url {
            targets.append(("sender -> running server", url))
        }
        targets.append(("sender -> nothing listening", "http://127.0.0.1:\(freeLoopbackPort())"))

        let overhead = Percentiles(timeCalls(calls) {})
        print("Swift client enqueue benchmark: \(grouped(Double(calls))) calls per line, rounds of \(round) with 20 ms pauses")
        print("clock overhead per sample (subtracted below): median \(fixed(overhead.median, 0)) ns")
        print("")
        print("\(padded("target", 30)) \(padded("call", 24)) \(padded("median ns", 10)) \(padded("p99 ns", 9)) \(padded("p99.9 ns", 10)) \(padded("max µs", 9)) notes")
        if targets.count == 1 { print("(no --server or --url: only the unreachable case)") }
        for (label, target) in targets {
            let spool = try scratchDirectory("dnnprov-enqueue-spool")
            defer { try? FileManager.default.removeItem(atPath: spool) }
            let client = ProvenanceClient(configuration: ClientConfiguration(url: target, spoolDirectory: spool, adoptOrphanSpools: false))
            client.register(BenchWorkload.spec)
            let task = client.execution(dataflow: BenchWorkload.dataflow).task("trainingmodel")
            task.begin()
            let rows = (0..<1000).map { BenchWorkload.epochRow(run: 1, epoch: $0, timestamp: "2026-11-25T10:00:00") }
            let event = TaskEvent(dataflow: BenchWorkload.dataflow, execution: task.execution.name, transformation: "trainingmodel",
                                  task: task.id, status: .running, time: 1_764_061_200,
                                  sets: [ElementSet(tag: "otrainingmodel", elements: [rows[0]])])

            var i = 0
            let save = Percentiles(timeCalls(calls) {
                task.save(set: "otrainingmodel", row: rows[i % 1000])
                i += 1
            }.map { $0 - overhead.median })
            let enqueue = Percentiles(timeCalls(calls) { client.enqueue(event) }.map { $0 - overhead.median })
            let delivered = client.flush(timeout: .seconds(label.contains("nothing") ? 1 : 60))
            let stats = client.stats
            let note = "\(grouped(Double(stats.eventsAcknowledged))) acknowledged, \(stats.recordsSpooled) records spooled\(delivered ? "" : " (not delivered: spooled)")"
            for (name, p) in [("task.save(set:row:)", save), ("client.enqueue(event)", enqueue)] {
                print("\(padded(label, 30)) \(padded(name, 24)) \(padded(fixed(p.median, 0), 10)) \(padded(fixed(p.at(99), 0), 9)) "
                      + "\(padded(fixed(p.at(99.9), 0), 10)) \(padded(fixed(p.max / 1000, 1), 9)) \(name.hasPrefix("client") ? note : "")")
            }
            client.close(timeout: .seconds(1))
            let ok = save.median < 1000 && enqueue.median < 1000
            print("\(padded("", 30)) target: median < 1 µs: \(ok ? "met" : "MISSED")")
        }
    }

    /// Nanoseconds per call of `body`, `n` calls in rounds with pauses.
    private func timeCalls(_ n: Int, _ body: () -> Void) -> [Double] {
        var samples = [Double](repeating: 0, count: n)
        var t0 = timespec(), t1 = timespec()
        var k = 0
        while k < n {
            let end = min(n, k + round)
            while k < end {
                clock_gettime(CLOCK_MONOTONIC, &t0)
                body()
                clock_gettime(CLOCK_MONOTONIC, &t1)
                samples[k] = Double((t1.tv_sec - t0.tv_sec) * 1_000_000_000 + (t1.tv_nsec - t0.tv_nsec))
                k += 1
            }
            usleep(20_000)
        }
        return samples
    }
}

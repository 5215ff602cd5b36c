import ArgumentParser
import DNNProvClient
import DNNProvModel
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Ingestion through the Swift client: N concurrent clients send per-epoch rows of many runs to
/// a `dnnprov serve` subprocess; values stored per second, acknowledgement latency, server RSS.
struct IngestBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest", abstract: "Attribute values stored per second by one server, Swift clients as the load.")

    @Option(help: "Path to a (release) dnnprov binary.") var server: String
    @Option(help: "Client counts to run, comma-separated.") var clients = "1,8,64"
    @Option(help: "Seconds of load per client count.") var seconds = 10.0
    @Option(help: "Events per batch.") var batchSize = 1000
    @Option(help: "Epoch rows per run (execution).") var epochs = 100
    @Flag(help: "Also run benchmarks/mlflow_ingest.py (MLflow log_batch, same rows) when MLflow is in .venv.")
    var mlflow = false
    @Option(help: "The Python that runs benchmarks/mlflow_ingest.py (MLFLOW_BIN may name the mlflow server command).")
    var mlflowPython = ".venv/bin/python"
    @Flag(help: "Require tokens: start the server with --require-tokens; the clients send a writer token.")
    var tokenAuth = false
    @Flag(help: "Throughput with tokens off and on: alternating rounds, each on a fresh server; values/s of both and the ratio.")
    var compareAuth = false
    @Option(help: "Rounds of each mode for --compare-auth.") var rounds = 3
    @Option(help: "The servers' database: a SQLite file (default: a temporary one) or a postgresql:// URL of an empty database.")
    var db: String?
    @Option(help: "Server instances on the database (more than one needs PostgreSQL); the clients are spread over them.")
    var instances = 1

    func validate() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        guard !(compareAuth && (tokenAuth || mlflow)) else { throw ValidationError("--compare-auth runs both modes; no --token-auth or --mlflow with it") }
        guard instances >= 1, instances == 1 || db?.hasPrefix("postgres") == true else {
            throw ValidationError("--instances above 1 needs --db postgresql://...: several servers share one PostgreSQL database")
        }
        guard !(compareAuth && db != nil) else { throw ValidationError("--compare-auth uses a fresh database per run; no --db with it") }
    }

    func run() async throws {
        let counts = clients.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        if compareAuth {
            try await compareAuthModes(counts: counts)
            return
        }
        // One server first: it creates the schema (and the token) before the others start.
        var procs = [try ServerProcess(binary: server, database: db, requireTokens: tokenAuth)]
        defer { for p in procs { p.stop() } }
        try await procs[0].waitUntilReady()
        for _ in 1..<instances {
            procs.append(try ServerProcess(binary: server, database: procs[0].database, token: procs[0].token))
            try await procs.last!.waitUntilReady()
        }
        let proc = procs[0]
        print("dnnprov ingest benchmark: server \(server) on \(procs.map(\.url).joined(separator: ", ")), database \(proc.database), tokens \(tokenAuth ? "required (writer token)" : "off")")
        print("workload: per-epoch rows of \(BenchWorkload.epochValues) values, \(epochs) epochs per run, batches of \(batchSize) events, \(ProcessInfo.processInfo.activeProcessorCount) cores")

        let spoolRoot = try scratchDirectory("dnnprov-bench-spool")
        defer { try? FileManager.default.removeItem(atPath: spoolRoot) }
        try registerDataflow(proc, spoolRoot: spoolRoot)

        let query = ServerClient(url: proc.url, token: proc.token)
        print("")
        print("clients  values/s     events/s   batches  ack p50 ms  ack p99 ms  CPU s server/clients  server RSS peak (HWM / polled)  verified")
        var results: [(Int, Double)] = []
        for n in counts {
            let before = try await storedValues(query)
            let serverCPU = { procs.reduce(0) { $0 + $1.cpuSeconds } }
            let cpu0 = (serverCPU(), ServerProcess.cpuSeconds(pid: "self"))
            let r = try runPhase(clients: n, procs: procs, spoolRoot: spoolRoot)
            let cpu = "\(fixed(serverCPU() - cpu0.0, 1)) / \(fixed(ServerProcess.cpuSeconds(pid: "self") - cpu0.1, 1))"
            let after = try await storedValues(query)
            let mem = procs.map { $0.memory() }.max { max($0.hwm ?? 0, $0.polledPeak) < max($1.hwm ?? 0, $1.polledPeak) }!
            let verified = after - before == r.values ? "yes (\(grouped(Double(after - before))) values counted)" : "NO: counted \(after - before), acknowledged \(r.values)"
            let lat = Percentiles(r.latencies)
            print("\(padded(String(n), 8)) \(padded(grouped(Double(r.values) / r.elapsed), 12)) \(padded(grouped(Double(r.events) / r.elapsed), 10)) "
                  + "\(padded(String(r.batches), 8)) \(padded(fixed(lat.median * 1000), 11)) \(padded(fixed(lat.at(99) * 1000), 11)) \(padded(cpu, 21)) "
                  + "\(padded("\(fixed(Double(mem.hwm ?? 0) / 1024, 1)) MB / \(fixed(Double(mem.polledPeak) / 1024, 1)) MB", 31)) \(verified)")
            results.append((n, Double(r.values) / r.elapsed))
        }
        let peakMB = procs.map { p in let m = p.memory(); return Double(max(m.hwm ?? 0, m.polledPeak)) / 1024 }.max() ?? 0
        let best = results.map(\.1).max() ?? 0
        // SQLite's target is one server's; PostgreSQL's (issue 9) is two servers' together.
        let target = proc.database.hasPrefix("postgres") ? 300_000.0 : 500_000.0
        print("")
        print("target: > \(grouped(target)) values/s: best \(grouped(best)) -> \(best > target ? "met" : "MISSED")")
        print("target: server RSS < 150 MB (each server): peak \(fixed(peakMB, 1)) MB -> \(peakMB < 150 ? "met" : "MISSED")")

        if mlflow { runMLflow(counts: counts) }
    }

    /// The dataflow, registered once through a client.
    private func registerDataflow(_ proc: ServerProcess, spoolRoot: String) throws {
        let setup = ProvenanceClient(configuration: ClientConfiguration(url: proc.url, token: proc.token, spoolDirectory: spoolRoot, adoptOrphanSpools: false))
        setup.register(BenchWorkload.spec)
        guard setup.flush(timeout: .seconds(30)), setup.stats.dataflowsRegistered == 1 else { throw BenchError("could not register the dataflow") }
        setup.close()
    }

    /// `--compare-auth`: the same phases with tokens off and on, `rounds` times each, alternating
    /// (off-on, then on-off, ...) so that drift (page cache, CPU clock, the machine's other load)
    /// falls on both; every run on a fresh server and database.
    private func compareAuthModes(counts: [Int]) async throws {
        print("dnnprov ingest benchmark, tokens off vs on: server \(server), \(rounds) rounds of each, alternating, a fresh server each run")
        print("workload: per-epoch rows of \(BenchWorkload.epochValues) values, \(epochs) epochs per run, batches of \(batchSize) events, "
              + "\(fixed(seconds, 0)) s per client count, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("")
        print("round  tokens  clients  values/s     ack p50 ms  ack p99 ms  server CPU s  CPU ms/100k values  verified")
        var figures: [Bool: [Int: [Double]]] = [false: [:], true: [:]]
        var cpuCost: [Bool: [Int: [Double]]] = [false: [:], true: [:]]  // server CPU ms per 100,000 values
        let spoolRoot = try scratchDirectory("dnnprov-bench-spool")
        defer { try? FileManager.default.removeItem(atPath: spoolRoot) }
        for round in 1...rounds {
            for auth in (round % 2 == 1 ? [false, true] : [true, false]) {
                let proc = try ServerProcess(binary: server, requireTokens: auth)
                defer { proc.stop() }
                try await proc.waitUntilReady()
                try registerDataflow(proc, spoolRoot: spoolRoot)
                let query = ServerClient(url: proc.url, token: proc.token)
                for n in counts {
                    let before = try await storedValues(query)
                    let cpu0 = proc.cpuSeconds
                    let r = try runPhase(clients: n, procs: [proc], spoolRoot: spoolRoot)
                    let cpu = proc.cpuSeconds - cpu0
                    let after = try await storedValues(query)
                    let rate = Double(r.values) / r.elapsed
                    let lat = Percentiles(r.latencies)
                    let verified = after - before == r.values ? "yes" : "NO: counted \(after - before), acknowledged \(r.values)"
                    let cost = cpu * 1000 / (Double(r.values) / 100_000)
                    print("\(padded(String(round), 6)) \(padded(auth ? "on" : "off", 7)) \(padded(String(n), 8)) \(padded(grouped(rate), 12)) "
                          + "\(padded(fixed(lat.median * 1000), 11)) \(padded(fixed(lat.at(99) * 1000), 11)) \(padded(fixed(cpu, 1), 13)) "
                          + "\(padded(fixed(cost, 1), 19)) \(verified)")
                    fflush(nil)
                    figures[auth]![n, default: []].append(rate)
                    cpuCost[auth]![n, default: []].append(cost)
                }
            }
        }
        print("")
        print("clients  tokens off values/s (mean; min-max)   tokens on values/s (mean; min-max)    on/off  server CPU ms/100k values off / on")
        var worst = Double.infinity
        func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(max(1, xs.count)) }
        for n in counts {
            let off = figures[false]![n] ?? [], on = figures[true]![n] ?? []
            let mOff = mean(off), mOn = mean(on)
            let ratio = mOn / mOff
            worst = min(worst, ratio)
            let cOff = mean(cpuCost[false]![n] ?? []), cOn = mean(cpuCost[true]![n] ?? [])
            print("\(padded(String(n), 8)) \(padded("\(grouped(mOff)); \(grouped(off.min() ?? .nan))-\(grouped(off.max() ?? .nan))", 38)) "
                  + "\(padded("\(grouped(mOn)); \(grouped(on.min() ?? .nan))-\(grouped(on.max() ?? .nan))", 37)) \(padded(fixed(ratio, 3), 7)) "
                  + "\(fixed(cOff, 1)) / \(fixed(cOn, 1)) (on/off \(fixed(cOn / cOff, 3)))")
        }
        print("(CPU per value is the steadier figure on a shared machine: wall-clock rates move with the other processes' load)")
        print("")
        print("target: tokens on within 5 % of off (on/off >= 0.95 for every client count): worst \(fixed(worst, 3)) -> \(worst >= 0.95 ? "met" : "MISSED")")
    }

    /// Values in the dataset tables the workload fills, counted by the server.
    private func storedValues(_ client: ServerClient) async throws -> Int {
        let r = try await client.query(
            "select (select count(*) from ds_otrainingmodel), (select count(*) from ds_itrainingmodel)",
            dataflow: BenchWorkload.dataflow)
        guard case .integer(let epochs)? = r.rows.first?[0], case .integer(let runs)? = r.rows.first?[1] else {
            throw BenchError("unexpected count answer")
        }
        return Int(epochs) * BenchWorkload.epochValues + Int(runs) * BenchWorkload.hyperparameterValues
    }

    struct Phase {
        var values = 0
        var events = 0
        var batches = 0
        var elapsed = 0.0
        var latencies: [Double] = []
    }

    /// `n` clients, each fed by its own thread, for `seconds`; then every client flushes. Client
    /// `i` sends to server `i % procs.count`.
    private func runPhase(clients n: Int, procs: [ServerProcess], spoolRoot: String) throws -> Phase {
        let window = batchSize * 4
        let clients = (0..<n).map { i in
            ProvenanceClient(configuration: ClientConfiguration(
                url: procs[i % procs.count].url, token: procs[i % procs.count].token, batchSize: batchSize, batchInterval: .milliseconds(100), spoolDirectory: spoolRoot, adoptOrphanSpools: false))
        }
        let start = Date()
        let deadline = start.addingTimeInterval(seconds)
        let done = DispatchGroup()
        let epochs = self.epochs
        for (i, client) in clients.enumerated() {
            done.enter()
            let thread = Thread {
                var run = 0
                var sent = 0
                while Date() < deadline {
                    let id = i * 1_000_000 + run
                    let exec = client.execution(dataflow: BenchWorkload.dataflow, name: "bench-\(n)-\(i)-\(run)-\(UUID().uuidString.prefix(8))", info: nil)
                    let train = exec.task("trainingmodel")
                    train.add(set: "itrainingmodel", row: BenchWorkload.hyperparameters(run: id))
                    train.begin()
                    let stamp = "2026-11-25T10:\(run % 60):00"
                    for epoch in 1...epochs {
                        train.save(set: "otrainingmodel", row: BenchWorkload.epochRow(run: id, epoch: epoch, timestamp: stamp))
                        sent += 1
                        // Flow control: a few batches ahead of the acknowledgements, no more.
                        if sent % 100 == 0 {
                            while client.undelivered > window { usleep(1000) }
                        }
                    }
                    train.end()
                    run += 1
                }
                done.leave()
            }
            thread.start()
        }
        done.wait()
        for c in clients { _ = c.flush(timeout: .seconds(120)) }
        var phase = Phase()
        phase.elapsed = Date().timeIntervalSince(start)
        for c in clients {
            let s = c.stats
            phase.values += s.valuesAcknowledged
            phase.events += s.eventsAcknowledged
            phase.batches += s.batchesAcknowledged
            phase.latencies += s.acknowledgementLatencies
            if s.eventsDropped > 0 || s.recordsSpooled > 0 {
                print("  note: a client dropped \(s.eventsDropped) event(s) and spooled \(s.recordsSpooled) record(s)")
            }
            c.close(timeout: .seconds(10))
        }
        return phase
    }

    private func runMLflow(counts: [Int]) {
        let root = FileManager.default.currentDirectoryPath
        let python = mlflowPython.hasPrefix("/") ? mlflowPython : (root as NSString).appendingPathComponent(mlflowPython)
        let script = (root as NSString).appendingPathComponent("benchmarks/mlflow_ingest.py")
        guard FileManager.default.isExecutableFile(atPath: python), FileManager.default.fileExists(atPath: script) else {
            print("\nMLflow: skipped (no \(python) or benchmarks/mlflow_ingest.py under \(root))")
            return
        }
        print("\nMLflow side by side (benchmarks/mlflow_ingest.py):")
        fflush(nil)  // the child writes to the same stdout: ours first
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [script, "--threads", counts.map(String.init).joined(separator: ","), "--seconds", String(seconds),
                       "--batch-size", String(batchSize)]
        do {
            try p.run()
            p.waitUntilExit()
        } catch {
            print("MLflow: could not run (\(error))")
        }
    }
}

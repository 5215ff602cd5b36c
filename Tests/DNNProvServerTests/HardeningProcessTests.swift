import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
import DNNProvTestSupport

/// The security hardening (issue 6) seen from outside: real `dnnprov serve` processes on
/// loopback, driven by many concurrent raw-socket clients. Durability under SIGKILL with 50
/// clients, backpressure (429 + Retry-After, bounded memory), cross-origin refusal, query
/// isolation (slow queries starve nothing), and tokens on a real process.
final class HardeningProcessTests: XCTestCase {

    // MARK: 1. kill -9 under 50 clients

    /// 50 clients send batches with idempotency keys; the server is SIGKILLed midway and
    /// restarted on the same file. Every acknowledged row is there; after every client re-sends
    /// everything with the same keys, every row is stored exactly once.
    func testKillNineUnderFiftyClientsLosesNothingAndStoresOnce() throws {
        let started = Date()
        defer { print("[hardening] kill -9 under 50 clients: \(elapsed(started))") }
        let db = try TestDatabase()
        var server = try ServerProcess(database: db.location)
        XCTAssertEqual(try RawHTTP.post(server.port, "/api/v1/dataflows", json: SmallFlow.spec).status, 201)

        let clients = 50, batches = 30, perBatch = 10
        let total = clients * batches * perBatch
        // Row id = client * 10_000 + batch * 100 + index: unique, and stored as the row's loss.
        func events(_ c: Int, _ b: Int) -> [[String: Any]] {
            (0..<perBatch).map { i in
                SmallFlow.event(key: "k\(c)-\(b)-\(i)", execution: "run-\(c)", rows: [[Double(c * 10_000 + b * 100 + i), b * perBatch + i]])
            }
        }
        func ids(_ c: Int, _ b: Int) -> [Int] { (0..<perBatch).map { c * 10_000 + b * 100 + $0 } }

        let acked = IntSet()
        let failed = Counter()
        let finished = Counter()
        let port1 = server.port
        let senders = concurrently(clients, wait: false) { c in
            for b in 0..<batches {
                if let r = try? RawHTTP.post(port1, "/api/v1/batch", json: ["events": events(c, b)], timeout: 30), (200..<300).contains(r.status) {
                    acked.add(ids(c, b))
                } else {
                    failed.add()
                }
            }
            finished.add()
        }
        let killDeadline = Date().addingTimeInterval(60)
        while acked.count < total / 3 && finished.value < clients && Date() < killDeadline { Thread.sleep(forTimeInterval: 0.005) }
        let ackedAtKill = acked.count
        server.kill9()
        senders.wait()
        let ackedIDs = acked.all
        print("[hardening] acknowledged at kill: \(ackedAtKill), after the clients stopped: \(ackedIDs.count) of \(total) rows; \(failed.value) batches failed")
        XCTAssertGreaterThan(ackedIDs.count, 0)
        XCTAssertLessThan(ackedIDs.count, total, "the kill came too late to test anything")

        server = try ServerProcess(database: db.location)
        defer { server.stop() }
        let port2 = server.port
        let before = try sqlRows(port2, "select loss from ds_otrainingmodel").compactMap { ($0.first as? NSNumber)?.intValue }
        let storedBefore = Set(before)
        XCTAssertEqual(before.count, storedBefore.count, "a row stored twice before the replay")
        let lost = ackedIDs.subtracting(storedBefore)
        XCTAssertTrue(lost.isEmpty, "\(lost.count) acknowledged rows lost, e.g. \(lost.sorted().prefix(5))")
        // A batch is all or nothing, even when the process dies during its commit.
        let partial = Dictionary(grouping: storedBefore, by: { $0 / 100 }).filter { $0.value.count != perBatch }
        XCTAssertTrue(partial.isEmpty, "partially stored batches: \(partial.keys.sorted().prefix(5))")

        // Every client re-sends everything, acknowledged or not, with the same keys.
        let newlyStored = Counter(), duplicates = Counter(), refused = Counter(), retries = Counter()
        concurrently(clients) { c in
            for b in 0..<batches {
                var attempt = 0
                while true {
                    attempt += 1
                    let r = try? RawHTTP.post(port2, "/api/v1/batch", json: ["events": events(c, b)], timeout: 30)
                    if let r, (200..<300).contains(r.status) {
                        newlyStored.add((r.object["stored"] as? NSNumber)?.intValue ?? 0)
                        duplicates.add((r.object["duplicates"] as? NSNumber)?.intValue ?? 0)
                        break
                    }
                    if attempt >= 10 { refused.add(); break }
                    retries.add()
                    // A busy server says when to come back; a lost connection is retried at once.
                    let wait = r.flatMap { $0.header("Retry-After") }.flatMap { Double($0) } ?? 0.05
                    Thread.sleep(forTimeInterval: min(wait, 2))
                }
            }
        }
        print("[hardening] replay: stored \(newlyStored.value), duplicates \(duplicates.value), retries \(retries.value), given up \(refused.value)")
        XCTAssertEqual(refused.value, 0, "batches the restarted server never accepted")
        let counts = try sqlRows(port2, "select count(*), count(distinct loss), count(distinct loss || '-' || epoch) from ds_otrainingmodel")
        XCTAssertEqual(counts.first?.compactMap { ($0 as? NSNumber)?.intValue }, [total, total, total], "every row exactly once")
        let twice = try sqlRows(port2, "select loss, count(*) from ds_otrainingmodel group by loss having count(*) > 1 limit 5")
        XCTAssertTrue(twice.isEmpty, "rows stored more than once: \(twice)")
        if retries.value == 0 {
            XCTAssertEqual(newlyStored.value, total - storedBefore.count, "the replay stores exactly what was missing")
            XCTAssertEqual(duplicates.value, storedBefore.count, "and reports the rest as duplicates")
        }

        // A key is the identity of one event: re-used with other content it is refused (409), and
        // nothing of that batch is stored; keys are scoped per dataflow.
        var changed = events(7, 3)
        changed[4] = SmallFlow.event(key: "k7-3-4", execution: "run-7", rows: [[-1.0, -1]])
        let conflict = try RawHTTP.post(port2, "/api/v1/batch", json: ["events": changed])
        XCTAssertEqual(conflict.status, 409, conflict.text)
        var other = SmallFlow.spec
        other["tag"] = "mnist-b"
        XCTAssertEqual(try RawHTTP.post(port2, "/api/v1/dataflows", json: other).status, 201)
        var elsewhere = SmallFlow.event(key: "k7-3-4", execution: "run-7", rows: [[-2.0, -2]])
        elsewhere["dataflow"] = "mnist-b"
        let scoped = try RawHTTP.post(port2, "/api/v1/batch", json: ["events": [elsewhere]])
        XCTAssertEqual(scoped.status, 200, scoped.text)
        XCTAssertEqual((scoped.object["stored"] as? NSNumber)?.intValue, 1, "the same key in another dataflow is another event: \(scoped.text)")
        let final = try sqlRows(port2, "select count(*), min(loss) from ds_otrainingmodel")
        XCTAssertEqual(final.first?.compactMap { ($0 as? NSNumber)?.intValue }, [total, 0], "the refused batch stored nothing")
    }

    // MARK: 2. Overload: 429 with Retry-After, bounded memory

    /// 300 concurrent ~300 KB batches against `--ingest-queue 4`: some are refused with 429 and
    /// a positive integer Retry-After, none gets a 5xx, every 2xx batch is stored (and no 429 one),
    /// and the server's peak RSS stays under 300 MB.
    func testOverloadAnswers429WithRetryAfterAndBoundedMemory() throws {
        let started = Date()
        defer { print("[hardening] overload burst: \(elapsed(started))") }
        let db = try TestDatabase()
        let server = try ServerProcess(database: db.location, arguments: ["--ingest-queue", "4"],
                                       stderrFile: db.directory.appendingPathComponent("server.log").path)
        defer { server.stop() }
        XCTAssertEqual(try RawHTTP.post(server.port, "/api/v1/dataflows", json: SmallFlow.spec).status, 201)

        let requests = 300, bigRows = 10, smallRows = 5
        let bodies: [Data] = try (0..<requests).map { b in
            let letter = String(UnicodeScalar(UInt8(97 + b % 26)))
            let event: [String: Any] = [
                "key": "burst-\(b)", "dataflow": "mnist", "execution": "burst", "transformation": "trainingmodel",
                "task": "\(b)", "status": "RUNNING",
                "sets": [["tag": "otrainingmodel", "elements": (0..<smallRows).map { [Double(b), $0] }],
                         ["tag": "itrainingmodel", "elements": (0..<bigRows).map { [String(repeating: letter, count: 30_000) + "-\(b)-\($0)"] }]],
            ]
            return try JSONSerialization.data(withJSONObject: ["events": [event]])
        }
        let bodyKB = bodies.map(\.count).reduce(0, +) / requests / 1024

        let sampler = RSSSampler(pid: server.pid)
        let outcomes = Outcomes()
        let port = server.port
        concurrently(requests) { b in
            let t0 = Date()
            do {
                let r = try RawHTTP.request(port, "POST", "/api/v1/batch", headers: [("Content-Type", "application/json")], body: bodies[b], timeout: 60)
                outcomes.record(b, status: r.status, retryAfter: r.header("Retry-After"), seconds: Date().timeIntervalSince(t0), error: r.status >= 300 ? r.text : nil)
            } catch {
                outcomes.record(b, status: 0, retryAfter: nil, seconds: Date().timeIntervalSince(t0), error: "\(error)")
            }
        }
        sampler.stop()
        let hwm = procStatusKB(server.pid, "VmHWM") ?? 0
        let peakMB = Double(max(hwm, sampler.peakKB)) / 1024

        let all = outcomes.all
        let ok = Set(all.filter { (200..<300).contains($0.value.status) }.keys)
        let busy = all.filter { $0.value.status == 429 }
        let failedTransport = all.filter { $0.value.status == 0 }
        let histogram = Dictionary(grouping: all.values, by: \.status).mapValues(\.count).sorted { $0.key < $1.key }
        let slowest = all.values.map(\.seconds).max() ?? 0
        print("""
            [hardening] overload: \(requests) requests of ~\(bodyKB) KB; statuses \(histogram.map { "\($0.key == 0 ? "transport error" : String($0.key)): \($0.value)" }.joined(separator: ", ")); \
            peak RSS \(String(format: "%.1f", peakMB)) MB (VmHWM \(hwm / 1024) MB, sampled max \(sampler.peakKB / 1024) MB); slowest answer \(String(format: "%.2f", slowest)) s
            """)
        if let e = failedTransport.first { print("[hardening] a transport error: \(e.value.error ?? "")") }

        XCTAssertGreaterThan(busy.count, 0, "no request was refused with 429 under a burst of \(requests) against --ingest-queue 4")
        for (b, o) in busy {
            let seconds = o.retryAfter.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            XCTAssertNotNil(seconds, "429 for batch \(b) without an integer Retry-After: \(o.retryAfter ?? "none")")
            XCTAssertGreaterThan(seconds ?? 0, 0, "Retry-After must be positive")
        }
        let serverErrors = all.filter { $0.value.status >= 500 }
        XCTAssertTrue(serverErrors.isEmpty, "5xx answers: \(serverErrors.prefix(3).map { "\($0.value.status) \($0.value.error ?? "")" })")
        let others = all.filter { $0.value.status != 0 && $0.value.status != 429 && !(200..<300).contains($0.value.status) }
        XCTAssertTrue(others.isEmpty, "unexpected answers: \(others.prefix(3).map { "\($0.value.status) \($0.value.error ?? "")" })")
        XCTAssertGreaterThan(ok.count, 0, "nothing was accepted")

        // What is stored: exactly the 2xx batches (and perhaps some whose answer was lost), none of the 429 ones.
        let perBatch = try sqlRows(port, "select loss, count(*) from ds_otrainingmodel group by loss")
        var stored = [Int: Int]()
        for row in perBatch { if let b = (row[0] as? NSNumber)?.intValue { stored[b] = (row[1] as? NSNumber)?.intValue ?? 0 } }
        let missing = ok.subtracting(stored.keys)
        XCTAssertTrue(missing.isEmpty, "\(missing.count) acknowledged batches not stored, e.g. \(missing.sorted().prefix(5))")
        XCTAssertTrue(stored.values.allSatisfy { $0 == smallRows }, "a batch stored partially or twice")
        let storedBusy = Set(busy.keys).intersection(stored.keys)
        XCTAssertTrue(storedBusy.isEmpty, "batches answered 429 were stored: \(storedBusy.sorted().prefix(5))")
        let big = try sqlRows(port, "select count(*) from ds_itrainingmodel").first?.first as? NSNumber
        XCTAssertEqual(big?.intValue, stored.count * bigRows)

        XCTAssertLessThan(peakMB, 300, "server peak RSS \(peakMB) MB")
        XCTAssertEqual(try RawHTTP.get(port, "/health").status, 200, "the server is still up")
    }

    // MARK: 3. Cross-origin requests

    /// A form post as a browser sends it (text/plain, a foreign Origin) is refused with 403 and
    /// stores nothing; `Origin: null` likewise; without Origin, or from the server's own origin, it is accepted.
    func testCrossOriginFormPostIsRefused() throws {
        let started = Date()
        defer { print("[hardening] cross-origin: \(elapsed(started))") }
        let db = try TestDatabase()
        let server = try ServerProcess(database: db.location)
        defer { server.stop() }
        let port = server.port
        XCTAssertEqual(try RawHTTP.post(port, "/api/v1/dataflows", json: SmallFlow.spec).status, 201)

        func formPost(_ id: Int, origin: String?) throws -> RawResponse {
            // What <form enctype="text/plain"> can produce: a JSON text sent as text/plain.
            let body = try JSONSerialization.data(withJSONObject: ["events": [SmallFlow.event(key: "xo-\(id)", rows: [[Double(id), id]])]])
            var headers = [("Content-Type", "text/plain")]
            if let origin { headers.append(("Origin", origin)) }
            return try RawHTTP.request(port, "POST", "/api/v1/batch", headers: headers, body: body)
        }

        for (id, origin) in [(1, "http://evil.example"), (2, "null"), (3, "http://127.0.0.1:\(port).evil.example"), (4, "http://localhost.evil.example:\(port)")] {
            let r = try formPost(id, origin: origin)
            XCTAssertEqual(r.status, 403, "Origin: \(origin) -> \(r.status) \(r.text)")
            XCTAssertEqual((r.object["error"] as? String)?.hasPrefix("cross-origin request refused"), true, r.text)
            XCTAssertNil(r.header("Access-Control-Allow-Origin"), "no CORS headers")
        }
        let accepted = try formPost(5, origin: nil)
        XCTAssertTrue((200..<300).contains(accepted.status), "without Origin (how clients send): \(accepted.status) \(accepted.text)")
        let own = try formPost(6, origin: "http://127.0.0.1:\(port)")
        XCTAssertTrue((200..<300).contains(own.status), "from its own origin: \(own.status) \(own.text)")
        XCTAssertNil(own.header("Access-Control-Allow-Origin"), "no CORS headers")

        // Reads are refused cross-origin too.
        let read = try RawHTTP.request(port, "GET", "/api/v1/dataflows", headers: [("Origin", "http://evil.example")])
        XCTAssertEqual(read.status, 403, read.text)
        XCTAssertEqual((read.object["error"] as? String)?.hasPrefix("cross-origin request refused"), true, read.text)

        // DNS rebinding: a page of evil.example, resolved to 127.0.0.1, is "same-origin" by name.
        let rebound = try RawHTTP.request(port, "POST", "/api/v1/batch",
                                          headers: [("Content-Type", "text/plain"), ("Origin", "http://evil.example:\(port)")],
                                          body: try JSONSerialization.data(withJSONObject: ["events": [SmallFlow.event(key: "xo-7", rows: [[7.0, 7]])]]),
                                          hostHeader: "evil.example:\(port)")
        XCTAssertEqual(rebound.status, 403, "a rebound host name on a loopback server without tokens: \(rebound.text)")

        let stored = try sqlRows(port, "select loss from ds_otrainingmodel order by loss").compactMap { ($0.first as? NSNumber)?.intValue }
        XCTAssertEqual(stored, [5, 6], "only the same-origin and origin-less posts are stored")
    }

    // MARK: 4. Slow queries starve nothing

    /// Slow queries from distinct client addresses (127.0.0.2, .3, ...) fill every query worker
    /// (the default 4, or one per core on a bigger machine, so that they can take every core),
    /// and one more waits or gets 429. Meanwhile /health, the dataflow list and a small batch,
    /// each probed 20 times on its own thread, every time answer within 1 s.
    func testSlowQueriesDoNotStarveTheServer() throws {
        let started = Date()
        defer { print("[hardening] starvation: \(elapsed(started))") }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let workers = max(4, cores)
        let db = try TestDatabase()
        let server = try ServerProcess(database: db.location, arguments: workers == 4 ? [] : ["--query-workers", String(workers)])
        defer { server.stop() }
        let port = server.port
        XCTAssertEqual(try RawHTTP.post(port, "/api/v1/dataflows", json: SmallFlow.spec).status, 201)

        let slowSQL = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c"
        let timeoutMs = 10_000
        let queries = workers + 1
        let slow = Outcomes()
        let slowStart = Date()
        let slowGroup = concurrently(queries, wait: false) { i in
            let t0 = Date()
            do {
                let r = try RawHTTP.post(port, "/api/v1/query", json: ["sql": slowSQL, "dataflow": "mnist", "timeout_ms": timeoutMs],
                                         source: "127.0.0.\(2 + i)", timeout: 60)
                slow.record(i, status: r.status, retryAfter: r.header("Retry-After"), seconds: Date().timeIntervalSince(t0), error: r.text)
            } catch {
                slow.record(i, status: 0, retryAfter: nil, seconds: Date().timeIntervalSince(t0), error: "\(error)")
            }
        }
        Thread.sleep(forTimeInterval: 0.7)   // the queries are admitted and running

        let probes: [(String, (Int) throws -> RawResponse)] = [
            ("GET /health", { _ in try RawHTTP.get(port, "/health", timeout: 30) }),
            ("GET /api/v1/dataflows", { _ in try RawHTTP.get(port, "/api/v1/dataflows", timeout: 30) }),
            ("POST /api/v1/batch", { round in
                try RawHTTP.post(port, "/api/v1/batch", json: ["events": [SmallFlow.event(key: "probe-\(round)", rows: [[Double(round), round]])]], timeout: 30)
            }),
        ]
        let latencies = Outcomes()   // index: probe * 100 + round
        concurrently(probes.count) { p in
            let (name, probe) = probes[p]
            for round in 0..<20 {
                let t0 = Date()
                var status = 0, error: String?
                do {
                    let r = try probe(round)
                    status = r.status
                    if !(200..<300).contains(r.status) { error = r.text }
                } catch let e {
                    error = "\(e)"
                }
                let seconds = Date().timeIntervalSince(t0)
                latencies.record(p * 100 + round, status: status, retryAfter: String(format: "%.1f", t0.timeIntervalSince(slowStart)), seconds: seconds,
                                 error: error.map { "\(name) round \(round): \($0)" })
                Thread.sleep(forTimeInterval: 0.25)
            }
        }
        let probesEnded = Date().timeIntervalSince(slowStart)
        slowGroup.wait()
        let results = slow.all.sorted { $0.key < $1.key }
        let probeResults = latencies.all
        var report = [String]()
        for (p, (name, _)) in probes.enumerated() {
            let mine = probeResults.filter { $0.key / 100 == p }.map(\.value)
            let worst = mine.map(\.seconds).max() ?? 0
            report.append("\(name) max \(String(format: "%.3f", worst)) s")
            XCTAssertLessThan(worst, 1.0, "\(name) took \(String(format: "%.2f", worst)) s while \(queries) slow queries ran on \(cores) cores")
        }
        let slowProbes = probeResults.sorted { $0.key < $1.key }.filter { $0.value.seconds >= 0.5 }
            .map { "\(probes[$0.key / 100].0) #\($0.key % 100) sent at \($0.value.retryAfter ?? "?") s took \(String(format: "%.2f", $0.value.seconds)) s" }
        print("[hardening] while \(queries) slow queries ran (\(workers) query workers, \(cores) cores): \(report.joined(separator: ", "))")
        if !slowProbes.isEmpty { print("[hardening] probes over 0.5 s: \(slowProbes.joined(separator: "; "))") }
        print("[hardening] slow queries: \(results.map { "\($0.value.status) after \(String(format: "%.1f", $0.value.seconds)) s" }.joined(separator: ", "))")

        let failures = probeResults.values.compactMap(\.error)
        XCTAssertTrue(failures.isEmpty, "probes failed: \(failures.prefix(5))")
        let statuses = results.map(\.value.status)
        XCTAssertTrue(statuses.allSatisfy { $0 == 408 || $0 == 429 }, "slow queries end in a timeout (408) or are refused (429): \(results.map { "\($0.value.status) \($0.value.error?.prefix(200) ?? "")" })")
        // The last may wait for a query worker or be refused; both are fine. Count them.
        let refused = results.filter { $0.value.status == 429 }
        print("[hardening] slow queries refused with 429: \(refused.count) of \(queries)")
        XCTAssertGreaterThanOrEqual(statuses.filter { $0 == 408 }.count, workers, "\(workers) query workers: that many slow queries really ran")
        for (_, o) in refused { XCTAssertGreaterThan(o.retryAfter.flatMap { Int($0) } ?? 0, 0, "429 without a positive Retry-After") }
        // Every admitted query is stopped at its time limit (not later because it could not get a thread).
        let timeouts = results.filter { $0.value.status == 408 }.map(\.value.seconds).sorted()
        XCTAssertGreaterThanOrEqual(timeouts.first ?? 0, Double(timeoutMs) / 1000 - 0.5, "timed out before timeout_ms")
        XCTAssertLessThan(timeouts.dropLast(queries - workers).last ?? 0, Double(timeoutMs) / 1000 + 2,
                          "timeout_ms=\(timeoutMs) not enforced on time: \(timeouts.map { String(format: "%.1f", $0) })")
        // The probes ran while the admitted queries were still running (they end at the timeout);
        // when a probe stalled, the failure above already says it all.
        if probeResults.values.allSatisfy({ $0.seconds < 1 }) {
            XCTAssertLessThan(probesEnded, (timeouts.first ?? 0) + 0.7, "the probes outlasted the slow queries; the test proves nothing")
        }
    }

    /// `--queries-per-client 2`: a third concurrent query from the same address gets 429 with Retry-After.
    func testQueriesPerClientLimit() throws {
        let started = Date()
        defer { print("[hardening] queries per client: \(elapsed(started))") }
        let db = try TestDatabase()
        let server = try ServerProcess(database: db.location)
        defer { server.stop() }
        let port = server.port
        XCTAssertEqual(try RawHTTP.post(port, "/api/v1/dataflows", json: SmallFlow.spec).status, 201)
        let slowSQL = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c"
        let slow = Outcomes()
        concurrently(3) { i in
            do {
                let r = try RawHTTP.post(port, "/api/v1/query", json: ["sql": slowSQL, "dataflow": "mnist", "timeout_ms": 3000], timeout: 30)
                slow.record(i, status: r.status, retryAfter: r.header("Retry-After"), seconds: 0, error: r.text)
            } catch {
                slow.record(i, status: 0, retryAfter: nil, seconds: 0, error: "\(error)")
            }
        }
        let statuses = slow.all.values.map(\.status).sorted()
        print("[hardening] 3 queries from one address: \(statuses)")
        XCTAssertEqual(statuses, [408, 408, 429], "\(slow.all.values.map { "\($0.status) \($0.error ?? "")" })")
        for o in slow.all.values where o.status == 429 {
            XCTAssertGreaterThan(o.retryAfter.flatMap { Int($0) } ?? 0, 0, "429 without a positive Retry-After")
        }
    }

    // MARK: 5. Tokens on a real process

    /// `serve --require-tokens`: tokens made by `dnnprov token create --db` open the API by role;
    /// `token revoke --db` closes it within ~3 s.
    func testTokensOnARealProcess() throws {
        let started = Date()
        defer { print("[hardening] tokens: \(elapsed(started))") }
        let db = try TestDatabase()
        let server = try ServerProcess(database: db.location, arguments: ["--require-tokens"])
        defer { server.stop() }
        let port = server.port

        func create(_ role: String, name: String) throws -> String {
            let r = try DNNProvBinary.run(["token", "create", "--role", role, "--name", name, "--db", db.location])
            XCTAssertEqual(r.status, 0, r.stderr)
            let secret = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertTrue(secret.hasPrefix("dnp_") && !secret.contains("\n"), "one line starting with dnp_: \(r.stdout)")
            return secret
        }
        let writer = try create("writer", name: "trainer")
        let reader = try create("reader", name: "dashboard")
        func bearer(_ s: String) -> [(String, String)] { [("Authorization", "Bearer \(s)")] }
        func batch(_ id: Int, _ headers: [(String, String)]) throws -> RawResponse {
            try RawHTTP.post(port, "/api/v1/batch", json: ["events": [SmallFlow.event(key: "auth-\(id)", rows: [[Double(id), id]])]], headers: headers)
        }

        XCTAssertEqual(try RawHTTP.get(port, "/health").status, 200, "health is public")
        let anonymous = try RawHTTP.post(port, "/api/v1/dataflows", json: SmallFlow.spec)
        XCTAssertEqual(anonymous.status, 401, anonymous.text)
        XCTAssertEqual(anonymous.header("WWW-Authenticate")?.hasPrefix("Bearer"), true, "401 carries WWW-Authenticate: Bearer")
        XCTAssertNotNil(anonymous.object["error"] as? String, anonymous.text)
        XCTAssertEqual(try RawHTTP.post(port, "/api/v1/dataflows", json: SmallFlow.spec, headers: bearer(writer)).status, 201)

        let stored = try batch(1, bearer(writer))
        XCTAssertEqual(stored.status, 200, stored.text)
        let none = try batch(2, [])
        XCTAssertEqual(none.status, 401, none.text)
        XCTAssertEqual(none.header("WWW-Authenticate")?.hasPrefix("Bearer"), true)
        let wrong = try batch(3, bearer("dnp_not-a-token"))
        XCTAssertEqual(wrong.status, 401, wrong.text)
        let tooLow = try batch(4, bearer(reader))
        XCTAssertEqual(tooLow.status, 403, tooLow.text)
        XCTAssertNotNil(tooLow.object["error"] as? String, tooLow.text)
        XCTAssertEqual(try RawHTTP.get(port, "/api/v1/dataflows").status, 401)
        XCTAssertEqual(try RawHTTP.get(port, "/api/v1/dataflows", headers: bearer(reader)).status, 200, "a reader reads")
        XCTAssertEqual(try RawHTTP.get(port, "/api/v1/dataflows?token=\(reader)").status, 200, "?token= is accepted")
        XCTAssertEqual(try RawHTTP.get(port, "/api/v1/tokens", headers: bearer(writer)).status, 403, "token admin needs the admin role")
        let rows = try sqlRows(port, "select loss from ds_otrainingmodel", headers: bearer(reader)).compactMap { ($0.first as? NSNumber)?.intValue }
        XCTAssertEqual(rows, [1], "only the writer's batch is stored")

        // Revocation through the CLI, on the file, while the server runs.
        let list = try DNNProvBinary.run(["token", "list", "--db", db.location, "--format", "json"])
        XCTAssertEqual(list.status, 0, list.stderr)
        let parsed = try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8))
        let entries = tokenEntries(parsed)
        XCTAssertFalse(list.stdout.contains(writer), "token list must not show secrets")
        guard let id = entries.first(where: { $0["name"] as? String == "trainer" }).flatMap({ ($0["id"] as? NSNumber)?.intValue }) else {
            return XCTFail("no token named trainer with an id in `token list --format json`: \(list.stdout)")
        }
        let revoke = try DNNProvBinary.run(["token", "revoke", String(id), "--db", db.location])
        XCTAssertEqual(revoke.status, 0, revoke.stderr)
        let revokedAt = Date()
        var status = 0
        repeat {
            status = try batch(100 + Int(Date().timeIntervalSince(revokedAt) * 100), bearer(writer)).status
            if status == 401 { break }
            Thread.sleep(forTimeInterval: 0.1)
        } while Date().timeIntervalSince(revokedAt) < 3.5
        let delay = Date().timeIntervalSince(revokedAt)
        print("[hardening] a revoked token was refused after \(String(format: "%.2f", delay)) s")
        XCTAssertEqual(status, 401, "the revoked writer token still works \(String(format: "%.1f", delay)) s after `token revoke`")
        XCTAssertEqual(try RawHTTP.get(port, "/api/v1/dataflows", headers: bearer(reader)).status, 200, "other tokens keep working")
    }

    /// On a non-loopback address without tokens and without `--insecure`, the server must not
    /// serve unauthenticated. `serve --help` documents how: it starts, with tokens required.
    func testNonLoopbackAddressIsNeverOpen() throws {
        let started = Date()
        defer { print("[hardening] non-loopback: \(elapsed(started))") }
        let help = try DNNProvBinary.run(["serve", "--help"])
        let flat = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertTrue(flat.contains("--insecure"), "serve --help documents --insecure: \(help.stdout)")
        XCTAssertTrue(flat.contains("On any other address they are, unless --insecure is given"),
                      "serve --help says tokens are required off loopback: \(help.stdout)")
        let db = try TestDatabase()
        do {
            let server = try ServerProcess(database: db.location, host: "0.0.0.0", stderrFile: db.directory.appendingPathComponent("server.log").path)
            defer { server.stop() }
            let list = try RawHTTP.get(server.port, "/api/v1/dataflows")
            XCTAssertEqual(list.status, 401, "a server on 0.0.0.0 without --insecure answered an anonymous read: \(list.status) \(list.text)")
            let write = try RawHTTP.post(server.port, "/api/v1/dataflows", json: SmallFlow.spec)
            XCTAssertEqual(write.status, 401, "a server on 0.0.0.0 without --insecure accepted an anonymous write: \(write.status) \(write.text)")
            let query = try RawHTTP.post(server.port, "/api/v1/query", json: ["sql": "select 1"])
            XCTAssertEqual(query.status, 401, query.text)
            XCTAssertEqual(list.header("WWW-Authenticate")?.hasPrefix("Bearer"), true)
            XCTAssertEqual(try RawHTTP.get(server.port, "/health").status, 200, "health stays public")
        } catch let ServerProcess.StartError.exited(status, stderr) {
            XCTFail("serve --host 0.0.0.0 (documented to start with tokens required) exited with status \(status): \(stderr)")
        }
    }
}

// MARK: - Helpers

private func elapsed(_ since: Date) -> String { String(format: "%.1f s", Date().timeIntervalSince(since)) }

/// Runs one query through `POST /api/v1/query` and returns its rows; fails the test on an error answer.
private func sqlRows(_ port: Int, _ sql: String, dataflow: String = "mnist", headers: [(String, String)] = [],
                     file: StaticString = #filePath, line: UInt = #line) throws -> [[Any]] {
    let r = try RawHTTP.post(port, "/api/v1/query", json: ["sql": sql, "dataflow": dataflow, "limit": 100_000], headers: headers)
    XCTAssertEqual(r.status, 200, "\(sql): \(r.text)", file: file, line: line)
    return r.object["rows"] as? [[Any]] ?? []
}

/// The tokens of `token list --format json`: an array of objects, `{"tokens": [...]}`, or a
/// query-style `{"columns": [{"name"}], "rows": [[...]]}`.
private func tokenEntries(_ parsed: Any?) -> [[String: Any]] {
    if let array = parsed as? [[String: Any]] { return array }
    guard let object = parsed as? [String: Any] else { return [] }
    if let tokens = object["tokens"] as? [[String: Any]] { return tokens }
    let names = (object["columns"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
    return (object["rows"] as? [[Any]] ?? []).map { Dictionary(zip(names, $0), uniquingKeysWith: { a, _ in a }) }
}

/// Runs `body(0..<n)` on `n` threads started together; waits for them unless `wait` is false
/// (then the returned group tells when they are done).
@discardableResult
private func concurrently(_ n: Int, wait: Bool = true, _ body: @escaping (Int) -> Void) -> DispatchGroup {
    let group = DispatchGroup()
    let gate = DispatchSemaphore(value: 0)
    for i in 0..<n {
        group.enter()
        let thread = Thread {
            gate.wait()
            gate.signal()
            body(i)
            group.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    gate.signal()
    if wait { group.wait() }
    return group
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add(_ k: Int = 1) { lock.lock(); n += k; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

private final class IntSet: @unchecked Sendable {
    private let lock = NSLock()
    private var set = Set<Int>()
    func add(_ k: [Int]) { lock.lock(); set.formUnion(k); lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return set.count }
    var all: Set<Int> { lock.lock(); defer { lock.unlock() }; return set }
}

private final class Outcomes: @unchecked Sendable {
    struct Outcome { var status: Int; var retryAfter: String?; var seconds: Double; var error: String? }
    private let lock = NSLock()
    private var byIndex = [Int: Outcome]()
    func record(_ i: Int, status: Int, retryAfter: String?, seconds: Double, error: String?) {
        lock.lock(); byIndex[i] = Outcome(status: status, retryAfter: retryAfter, seconds: seconds, error: error); lock.unlock()
    }
    var all: [Int: Outcome] { lock.lock(); defer { lock.unlock() }; return byIndex }
}

/// A field of /proc/<pid>/status in kB (VmRSS, VmHWM).
private func procStatusKB(_ pid: Int32, _ field: String) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
    }
    return nil
}

/// Samples a process's VmRSS every 10 ms on its own thread and keeps the largest.
private final class RSSSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var peak = 0
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    init(pid: Int32) {
        Thread {
            while true {
                self.lock.lock(); let go = self.running; self.lock.unlock()
                guard go else { break }
                if let kb = procStatusKB(pid, "VmRSS") { self.lock.lock(); self.peak = max(self.peak, kb); self.lock.unlock() }
                Thread.sleep(forTimeInterval: 0.01)
            }
            self.done.signal()
        }.start()
    }

    func stop() { lock.lock(); running = false; lock.unlock(); done.wait() }
    var peakKB: Int { lock.lock(); defer { lock.unlock() }; return peak }
}

/// An HTTP answer read off a raw socket.
struct RawResponse {
    var status: Int
    var headers: [String: String]   // names in lower case
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    var object: [String: Any] { (try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])) as? [String: Any] ?? [:] }
    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

struct RawHTTPError: Error, CustomStringConvertible {
    var description: String
}

/// A blocking HTTP/1.1 client on a raw socket, one connection per request (`Connection: close`):
/// any number of them can run at once (URLSession caps connections per host), the request headers
/// are exactly those given (Origin, Content-Type), and the source address can be chosen (127.0.0.x).
enum RawHTTP {
    static func get(_ port: Int, _ path: String, headers: [(String, String)] = [], timeout: Int = 30) throws -> RawResponse {
        try request(port, "GET", path, headers: headers, body: nil, timeout: timeout)
    }

    static func post(_ port: Int, _ path: String, json: Any, headers: [(String, String)] = [], source: String? = nil, timeout: Int = 30) throws -> RawResponse {
        try request(port, "POST", path, headers: [("Content-Type", "application/json")] + headers,
                    body: try JSONSerialization.data(withJSONObject: json), source: source, timeout: timeout)
    }

    static func request(_ port: Int, _ method: String, _ path: String, headers: [(String, String)] = [], body: Data? = nil,
                        source: String? = nil, hostHeader: String? = nil, timeout: Int = 30) throws -> RawResponse {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if let source {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_addr.s_addr = inet_addr(source)
            let r = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard r == 0 else { throw RawHTTPError(description: "bind \(source): errno \(errno)") }
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let c = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard c == 0 else { throw RawHTTPError(description: "connect: errno \(errno)") }

        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader ?? "127.0.0.1:\(port)")\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if body != nil || method == "POST" { head += "Content-Length: \(body?.count ?? 0)\r\n" }
        head += "\r\n"
        var out = Data(head.utf8)
        if let body { out.append(body) }
        var sendError: Int32?
        out.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    sendError = errno
                    return
                }
                offset += n
            }
        }

        // Read the answer (a server may answer, e.g. 429, before it has read the whole body).
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 {
                received.append(contentsOf: buffer[0..<n])
                if let complete = parse(received, final: false) { return complete }
                continue
            }
            if n == 0 { break }
            if errno == EINTR { continue }
            let e = errno
            if let partial = parse(received, final: true) { return partial }
            throw RawHTTPError(description: "recv: errno \(e)\(sendError.map { " (send failed: errno \($0))" } ?? ""), \(received.count) bytes read")
        }
        if let r = parse(received, final: true) { return r }
        throw RawHTTPError(description: "no answer\(sendError.map { " (send failed: errno \($0))" } ?? ""), \(received.count) bytes read")
    }

    /// Parses a whole response; nil while it is incomplete (with `final`, takes what there is).
    private static func parse(_ data: Data, final: Bool) -> RawResponse? {
        guard let end = data.range(of: Data("\r\n\r\n".utf8)) else { return nil }
        let headText = String(decoding: data[data.startIndex..<end.lowerBound], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers = [String: String]()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let rest = Data(data[end.upperBound...])
        if let length = headers["content-length"].flatMap({ Int($0) }) {
            if rest.count >= length { return RawResponse(status: status, headers: headers, body: rest.prefix(length)) }
            return final ? RawResponse(status: status, headers: headers, body: rest) : nil
        }
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            if let body = dechunk(rest) { return RawResponse(status: status, headers: headers, body: body) }
            return final ? RawResponse(status: status, headers: headers, body: rest) : nil
        }
        return final ? RawResponse(status: status, headers: headers, body: rest) : nil
    }

    /// The body of a complete chunked encoding, or nil while the last chunk has not arrived.
    private static func dechunk(_ data: Data) -> Data? {
        var body = Data()
        var i = data.startIndex
        while true {
            guard let lineEnd = data[i...].range(of: Data("\r\n".utf8)) else { return nil }
            let sizeText = String(decoding: data[i..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
            let start = lineEnd.upperBound
            if size == 0 { return body }
            guard data.endIndex - start >= size + 2 else { return nil }
            body.append(data[start..<(start + size)])
            i = start + size + 2
        }
    }
}

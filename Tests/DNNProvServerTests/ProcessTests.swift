import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import DNNProvTestSupport

/// The CLI and the server as real processes: output formats, error messages and exit codes,
/// and durability when the server is killed with SIGKILL while clients send.
final class ProcessTests: XCTestCase {
    func testCLIQueriesAServerAndAFile() throws {
        let db = try TestDatabase()
        let server = try ServerProcess(database: db.location)
        defer { server.stop() }
        XCTAssertEqual(try HTTP.post(server.url + "/api/v1/dataflows", json: SmallFlow.spec).status, 201)
        let batch = ["events": [SmallFlow.event(key: "c1", rows: [[0.5, 1], [0.25, 2]]),
                                SmallFlow.event(key: "c2", set: "itrainingmodel", rows: [["adam, \"beta\""]])]]
        XCTAssertEqual(try HTTP.post(server.url + "/api/v1/batch", json: batch).status, 200)

        let table = try DNNProvBinary.run(["query", "--url", server.url, "--dataflow", "mnist", "select epoch, loss from ds_otrainingmodel order by id"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("epoch | loss"), table.stdout)
        XCTAssertTrue(table.stdout.contains("(2 rows)"), table.stdout)

        let csv = try DNNProvBinary.run(["query", "--format", "csv", "select optimizer_name from itrainingmodel"], environment: ["DNNPROV_URL": server.url])
        XCTAssertEqual(csv.stdout, "optimizer_name\n\"adam, \"\"beta\"\"\"\n", "CSV quoting; DNNPROV_URL is honoured")

        let json = try DNNProvBinary.run(["query", "--url", server.url, "--format", "json", "select count(*) as n from ds_otrainingmodel"])
        let obj = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        XCTAssertEqual((obj?["rows"] as? [[Int]])?.first?.first, 2)

        let direct = try DNNProvBinary.run(["query", "--db", db.location, "--format", "csv", "select max(epoch) as e from ds_otrainingmodel"])
        XCTAssertEqual(direct.stdout, "e\n2.0\n", direct.stderr)

        let dataflows = try DNNProvBinary.run(["dataflows", "--url", server.url])
        XCTAssertTrue(dataflows.stdout.contains("mnist"), dataflows.stdout)
        let tasks = try DNNProvBinary.run(["tasks", "mnist", "--db", db.location, "--format", "csv"])
        XCTAssertTrue(tasks.stdout.contains("1,1,trainingmodel,run-1,RUNNING"), tasks.stdout)

        // Errors: a message on stderr and a non-zero exit code.
        let checks: [([String], String)] = [
            // The database's words ("no such table: nowhere", 'relation "nowhere" does not exist').
            (["query", "--url", server.url, "select * from nowhere"], "nowhere"),
            (["query", "--url", server.url, "delete from task"], "read-only"),
            (["tasks", "ghost", "--url", server.url], "unknown dataflow 'ghost'"),
            (["query", "--url", "http://127.0.0.1:1", "select 1"], "cannot reach"),
            (["query", "--db", db.location + ".missing", "select 1"], TestDatabase.backend == .postgres ? "does not exist" : "no database file"),
            (["query", "--db", db.location, "--url", server.url, "select 1"], "not both"),
        ]
        for (args, message) in checks {
            let r = try DNNProvBinary.run(args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
    }

    /// Acknowledged means committed: after a SIGKILL mid-stream and a restart, every
    /// acknowledged event is there, and re-sending the unacknowledged ones stores each once.
    func testKillNineLosesNoAcknowledgedEvent() throws {
        let db = try TestDatabase()
        var server = try ServerProcess(database: db.location)
        XCTAssertEqual(try HTTP.post(server.url + "/api/v1/dataflows", json: SmallFlow.spec).status, 201)

        let acked = AckedKeys()
        let senders = DispatchGroup()
        let url = server.url
        for client in 0..<4 {
            DispatchQueue.global().async(group: senders) {
                for b in 0..<100 {
                    let (keys, events) = SmallFlow.keyedBatch(client: client, batch: b)
                    guard let r = try? HTTP.post(url + "/api/v1/batch", json: ["events": events]), r.status == 200 else { return }
                    acked.add(keys)
                }
            }
        }
        while acked.count < 600 { Thread.sleep(forTimeInterval: 0.01) }
        server.kill9()
        senders.wait()
        let ackedKeys = acked.all
        XCTAssertGreaterThan(ackedKeys.count, 0)

        server = try ServerProcess(database: db.location)
        defer { server.stop() }
        let stored = try HTTP.post(server.url + "/api/v1/query", json: ["sql": "select key from idempotency_key", "limit": 1_000_000])
        let rows = (try JSONSerialization.jsonObject(with: stored.body) as? [String: Any])?["rows"] as? [[String]] ?? []
        let storedKeys = Set(rows.map { $0[0] })
        XCTAssertTrue(ackedKeys.isSubset(of: storedKeys), "\(ackedKeys.subtracting(storedKeys).count) acknowledged events lost")
        let counts = try HTTP.post(server.url + "/api/v1/query", json: ["sql": "select count(*) from ds_otrainingmodel", "dataflow": "mnist"])
        let n = ((try JSONSerialization.jsonObject(with: counts.body) as? [String: Any])?["rows"] as? [[Int]])?.first?.first
        XCTAssertEqual(n, storedKeys.count, "one row per stored event, no partial batches")

        // Replaying everything (as a client's spool would) adds only what was missing.
        for client in 0..<4 {
            for b in 0..<100 {
                let events = (0..<20).map { i in SmallFlow.event(key: "c\(client)-b\(b)-\(i)", execution: "run-\(client)", rows: [[Double(i), b * 20 + i]]) }
                XCTAssertEqual(try HTTP.post(server.url + "/api/v1/batch", json: ["events": events]).status, 200)
            }
        }
        let after = try HTTP.post(server.url + "/api/v1/query", json: ["sql": "select count(*), count(distinct epoch || '-' || trainingmodel_task_id) from ds_otrainingmodel", "dataflow": "mnist"])
        let pair = ((try JSONSerialization.jsonObject(with: after.body) as? [String: Any])?["rows"] as? [[Int]])?.first
        XCTAssertEqual(pair, [4 * 100 * 20, 4 * 100 * 20], "every event exactly once")
    }
}

final class AckedKeys: @unchecked Sendable {
    private let lock = NSLock()
    private var keys = Set<String>()
    func add(_ k: [String]) { lock.lock(); keys.formUnion(k); lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return keys.count }
    var all: Set<String> { lock.lock(); defer { lock.unlock() }; return keys }
}

import DNNProvTestSupport
import Foundation
import XCTest

/// Several `dnnprov serve` processes on one PostgreSQL database: clients interleaved over them,
/// one killed (-9) midway, retries sent to the other.
final class MultiInstanceTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(TestDatabase.backend == .postgres, "several servers share a PostgreSQL database (DNNPROV_TEST_BACKEND=postgres)")
    }

    /// Every acknowledged event is stored once, ids are unique, a retry with the same key sent to
    /// the other server is recognised, and a live subscriber of one server sees what the other stored.
    func testTwoServersOneDatabaseWithKillNine() throws {
        let db = try TestDatabase()
        let a = try ServerProcess(database: db.location)
        let b = try ServerProcess(database: db.location)
        defer { a.stop(); b.stop() }
        // Registered through one server, extended through the other at the same time as ingestion.
        XCTAssertEqual(try HTTP.post(a.url + "/api/v1/dataflows", json: SmallFlow.spec).status, 201)
        let live = try SSEReader(port: b.port, path: "/api/v1/dataflows/mnist/live")
        XCTAssertEqual(live.status, 200)

        let acked = AckedKeys()
        let senders = DispatchGroup()
        let killed = KilledFlag()
        for client in 0..<6 {
            DispatchQueue.global().async(group: senders) {
                for batch in 0..<60 {
                    let (keys, events) = SmallFlow.keyedBatch(client: client, batch: batch)
                    // Odd batches go to a, even ones to b; a batch a did not acknowledge is sent
                    // again to b, as a client behind a load balancer would.
                    let first = (batch % 2 == 1 && !killed.value) ? a.url : b.url
                    var ok = (try? HTTP.post(first + "/api/v1/batch", json: ["events": events]))?.status == 200
                    if !ok, first != b.url { ok = (try? HTTP.post(b.url + "/api/v1/batch", json: ["events": events]))?.status == 200 }
                    if ok { acked.add(keys) }
                }
            }
        }
        while acked.count < 2_000 { Thread.sleep(forTimeInterval: 0.01) }
        a.kill9()
        killed.set()
        senders.wait()
        XCTAssertEqual(acked.count, 7_200, "every batch acknowledged by one server or the other")

        // Keys already stored, sent again to the survivor: nothing is stored twice.
        for client in 0..<6 {
            let events = (0..<20).map { i in SmallFlow.event(key: "c\(client)-b7-\(i)", execution: "run-\(client)", rows: [[Double(i), 7 * 20 + i]]) }
            XCTAssertEqual(try HTTP.post(b.url + "/api/v1/batch", json: ["events": events]).status, 200)
        }
        let counts = try query(b, "select count(*), count(distinct id), count(distinct epoch || '-' || trainingmodel_task_id) from ds_otrainingmodel")
        let sent = 6 * 60 * 20
        XCTAssertEqual(counts.first, [sent, sent, sent], "every event exactly once, ids unique")
        XCTAssertEqual(try query(b, "select count(distinct df_exec) from task").first, [6], "one run per client: no run split by a race")

        // The subscriber on b saw rows that a stored (a stored the odd batches until it died).
        var sawRowsFromA = false
        let deadline = Date().addingTimeInterval(10)
        while !sawRowsFromA, Date() < deadline, let event = try live.next(timeout: 2) {
            guard event.name == "rows" else { continue }
            // An odd batch's epochs (batch * 20 + i with an odd batch): stored through a.
            sawRowsFromA = oddBatchEpochs(in: event.data)
        }
        XCTAssertTrue(sawRowsFromA, "the live stream of b shows rows stored through a")
    }

    /// Whether a `rows` event holds an epoch of an odd batch (20-39, 60-79, ...).
    private func oddBatchEpochs(in data: String) -> Bool {
        guard let json = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any],
              let columns = json["columns"] as? [String], let e = columns.firstIndex(of: "epoch"),
              let rows = json["rows"] as? [[Any]] else { return false }
        return rows.contains { row in
            guard e < row.count, let epoch = (row[e] as? NSNumber)?.intValue else { return false }
            return (epoch / 20) % 2 == 1
        }
    }

    private func query(_ server: ServerProcess, _ sql: String) throws -> [[Int]] {
        let r = try HTTP.post(server.url + "/api/v1/query", json: ["sql": sql, "dataflow": "mnist"])
        XCTAssertEqual(r.status, 200, String(decoding: r.body, as: UTF8.self))
        return ((try JSONSerialization.jsonObject(with: r.body) as? [String: Any])?["rows"] as? [[Int]]) ?? []
    }
}

private final class KilledFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var killed = false
    var value: Bool { lock.lock(); defer { lock.unlock() }; return killed }
    func set() { lock.lock(); killed = true; lock.unlock() }
}

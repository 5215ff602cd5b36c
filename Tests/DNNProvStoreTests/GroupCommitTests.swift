import DNNProvPostgres
import DNNProvModel
import DNNProvStore
import XCTest
import DNNProvTestSupport

final class GroupCommitTests: XCTestCase {
    /// Concurrent requests share commits; a bad one fails alone, the others are stored.
    func testConcurrentWritesAreIsolated() async throws {
        let tmp = try TestDatabase()
        let store = try tmp.open()
        defer { store.close() }
        _ = try await store.register(trainingSpec)
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 1...200 {
                group.addTask {
                    // Every 10th request is invalid (a non-number for NUMERIC).
                    let loss: Value = i % 10 == 0 ? .text("oops") : .number(Double(i))
                    do {
                        _ = try await store.ingest([epochEvent("k\(i)", execution: "run\(i % 7)", epoch: i, loss: loss)])
                        return true
                    } catch let e as ProvError {
                        XCTAssertEqual(e.kind, .unprocessable)
                        return false
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        XCTAssertEqual(outcomes.filter { $0 }.count, 180)
        let n = try await store.query("select count(*), count(distinct trainingmodel_task_id) from ds_otrainingmodel")
        XCTAssertEqual(n.rows[0][0].int, 180)
        XCTAssertEqual(n.rows[0][1].int, 7, "one task per execution, reused across requests")
        // Keys of stored requests are kept (a retry is a duplicate); keys of failed ones are not
        // (the corrected event under the same key is stored).
        for i in 1...200 {
            let result = try await store.ingest([epochEvent("k\(i)", execution: "run\(i % 7)", epoch: i, loss: .number(Double(i)))])
            XCTAssertEqual(result.duplicates, i % 10 == 0 ? 0 : 1, "key k\(i)")
        }
    }

    /// Executions and tasks get their ids from the writer; on PostgreSQL the identity sequences
    /// follow, so an insert that takes the column's default (by hand, an older server) fits in.
    func testIdsAssignedByTheWriterLeaveRoomForDefaultIDs() async throws {
        let tmp = try TestDatabase()
        guard tmp.isPostgres else { throw XCTSkip("identity sequences are PostgreSQL's") }
        let store = try tmp.open()
        _ = try await store.register(trainingSpec)
        for e in 1...20 { _ = try await store.ingest([epochEvent("e\(e)", execution: "run\(e % 4)", epoch: e)]) }
        store.close()
        let db = try PGConnection.connect(url: PostgresURL(tmp.location))
        defer { db.close() }
        let exec = try db.insertReturningID(sql: "INSERT INTO dataflow_execution (df_id, tag) SELECT id, 'by hand' FROM dataflow LIMIT 1")
        let task = try db.insertReturningID(sql: "INSERT INTO task (identifier, dt_id, df_exec, status) SELECT 'by hand', id, ?, 'READY' FROM data_transformation LIMIT 1",
                                            arguments: [exec])
        XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM dataflow_execution"), 5)
        XCTAssertGreaterThan(task, try XCTUnwrap(Int64.fetchOne(db, sql: "SELECT max(id) FROM task WHERE identifier <> 'by hand'")))
    }

    func testAcknowledgedWritesSurviveReopening() async throws {
        let tmp = try TestDatabase()
        do {
            let store = try tmp.open()
            _ = try await store.register(trainingSpec)
            for e in 1...50 { _ = try await store.ingest([epochEvent("e\(e)", epoch: e)]) }
            store.close()
        }
        let again = try tmp.open()
        defer { again.close() }
        let r = try await again.query("select count(*), max(epoch) from ds_otrainingmodel")
        XCTAssertEqual(r.rows[0][0].int, 50)
        XCTAssertEqual(r.rows[0][1], .real(50))
        // The catalog came back from the database: ingestion validates against it.
        do {
            _ = try await again.ingest([TaskEvent(key: nil, dataflow: "mnist", execution: "run", transformation: "trainingmodel", task: "1",
                                                  sets: [ElementSet(tag: "otrainingmodel", elements: [[.number(1)]])])])
            XCTFail("a 1-value row for a 2-attribute set must be refused")
        } catch let e as ProvError {
            XCTAssertEqual(e.kind, .unprocessable)
        }
    }

    func testReadOnlyStoreRefusesWrites() async throws {
        let tmp = try TestDatabase()
        let writer = try tmp.open()
        _ = try await writer.register(trainingSpec)
        writer.close()
        let reader = try tmp.open(readOnly: true)
        do {
            _ = try await reader.register(trainingSpec)
            XCTFail("read-only store accepted a write")
        } catch let e as ProvError {
            XCTAssertEqual(e.kind, .forbidden)
        }
        let r = try await reader.query("select tag from dataflow")
        XCTAssertEqual(r.rows.first?.first, .text("mnist"))
        XCTAssertThrowsError(try ProvStore.open(tmp.directory.appendingPathComponent("missing.sqlite").path, readOnly: true))
    }
}

import DNNProvModel
import DNNProvStore
import XCTest
import DNNProvTestSupport

final class QueryGuardTests: XCTestCase {
    func testOnlyReadingStatementsRun() async throws {
        let tmp = try TestDatabase()
        let store = try tmp.open()
        defer { store.close() }
        _ = try await store.register(trainingSpec)
        _ = try await store.ingest([epochEvent("a", epoch: 1)])

        // Semicolons and keywords inside strings, quoted names and comments are not statements.
        let r = try await store.query("select ';drop table task;' as s, \"epoch\" from ds_otrainingmodel -- ; delete from task\n;")
        XCTAssertEqual(r.rows.first?.first, .text(";drop table task;"))
        XCTAssertEqual(r.columns.map(\.name), ["s", "epoch"])
        // The schema is readable: SQLite's reading PRAGMAs, PostgreSQL's information_schema.
        let info = try await store.query(TestDatabase.backend == .postgres
            ? "select column_name from information_schema.columns where table_name = 'task'"
            : "PRAGMA table_info(task)")
        XCTAssertTrue(info.rows.count > 5)

        for sql in ["delete from task", "pragma writable_schema = 1", "attach ':memory:' as m", "select 1; select 2",
                    "/* hi */ insert into task(id) values (1)", "begin", "savepoint a", "analyze"] {
            do {
                _ = try await store.query(sql)
                XCTFail("ran: \(sql)")
            } catch let e as ProvError {
                XCTAssertTrue([.forbidden, .badRequest].contains(e.kind), "\(sql): \(e)")
            }
        }
        let n = try await store.query("select count(*) from ds_otrainingmodel")
        XCTAssertEqual(n.rows[0][0].int, 1)
    }

    func testColumnsFollowTheSeedsLayout() async throws {
        let tmp = try TestDatabase()
        let store = try tmp.open()
        defer { store.close() }
        var spec = trainingSpec
        spec.transformations.append(TransformationSpec(tag: "testingmodel", sets: [
            SetSpec(tag: "otrainingmodel", role: .input, attributes: [], dependency: "trainingmodel"),
            SetSpec(tag: "otestingmodel", role: .output, attributes: [AttributeSpec(name: "accuracy", type: .numeric)]),
        ]))
        _ = try await store.register(spec)
        let r = try await store.query("select * from ds_otrainingmodel", options: .init(dataflow: "MNIST"))
        XCTAssertEqual(r.columns.map(\.name), ["id", "trainingmodel_task_id", "testingmodel_task_id", "loss", "epoch"])
        let view = try await store.query("select * from otrainingmodel")
        XCTAssertEqual(view.columns.map(\.name), r.columns.map(\.name))

        // A consumer uses the producer's rows; it does not add rows to them.
        do {
            _ = try await store.ingest([TaskEvent(key: nil, dataflow: "mnist", execution: "r", transformation: "testingmodel", task: "3",
                                                  sets: [ElementSet(tag: "otrainingmodel", elements: [[.number(1), .number(1)]])])])
            XCTFail("a consumer added rows to its input set")
        } catch let e as ProvError {
            XCTAssertEqual(e.kind, .unprocessable)
            XCTAssertTrue(e.message.contains("added by tasks of 'trainingmodel'"), e.message)
        }
    }
}

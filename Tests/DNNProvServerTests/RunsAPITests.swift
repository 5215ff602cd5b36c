import DNNProvPostgres
import DNNProvModel
import DNNProvServer
import DNNProvStore
import Foundation
import GRDB
import XCTest
import DNNProvTestSupport

/// The runs table's summaries, the charts' series and the live stream, over loopback HTTP:
/// what they answer is checked against the rows sent and against SQL over the same store.
final class RunsAPITests: XCTestCase {
    /// Registers the AlexNet flow and sends its three runs.
    func sendAlexNet(_ api: LiveAPI) async throws {
        try await api.post("/api/v1/dataflows", json: AlexNet.spec, expect: .created)
        for r in AlexNet.runs.indices {
            for batch in AlexNet.batches(run: r) { try await api.post("/api/v1/batch", json: ["events": batch], expect: .ok) }
        }
    }

    func runs(_ api: LiveAPI, _ tag: String = "alexnet") async throws -> RunsAnswer {
        let r = try await api.get("/api/v1/dataflows/\(tag)/runs")
        XCTAssertEqual(r.status, .ok, r.text)
        return try JSONDecoder().decode(RunsAnswer.self, from: Data(r.text.utf8))
    }

    func testRunSummariesHoldHyperparametersAndMetricsAsSent() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await self.sendAlexNet(api)
            let answer = try await self.runs(api)
            XCTAssertEqual(answer.runs.map(\.execution), ["alexnet-run0", "alexnet-run1", "alexnet-run2"])
            for (r, run) in answer.runs.enumerated() {
                XCTAssertEqual(run.status, "FINISHED")
                XCTAssertFalse(run.stale)
                XCTAssertEqual(run.params["itrainingmodel"]?["optimizer_name"], .text(AlexNet.runs[r].optimizer))
                XCTAssertEqual(run.params["itrainingmodel"]?["learning_rate"], .number(AlexNet.runs[r].learningRate))
                XCTAssertEqual(run.tables["ilayers"], AlexNet.layers.count, "layers are a table, not hyperparameters")
                XCTAssertNil(run.params["ilayers"])
                let loss = try XCTUnwrap(run.metrics["otrainingmodel"]?["loss"])
                XCTAssertEqual(loss.count, AlexNet.epochs)
                XCTAssertEqual(loss.last!, AlexNet.loss(r, AlexNet.epochs), accuracy: 1e-12)
                XCTAssertEqual(loss.min!, (1...AlexNet.epochs).map { AlexNet.loss(r, $0) }.min()!, accuracy: 1e-12)
                XCTAssertEqual(loss.max!, AlexNet.loss(r, 1), accuracy: 1e-12)
                XCTAssertEqual(run.metrics["otrainingmodel"]?["epoch"]?.last, Double(AlexNet.epochs))
                XCTAssertEqual(run.metrics["oadaptation"]?["new_lrate"]?.count, 2)
                XCTAssertEqual(run.metrics["otestingmodel"]?["accuracy"]?.last ?? 0, AlexNet.testAccuracy(r), accuracy: 1e-12)
                XCTAssertNil(run.metrics["otrainingmodel"]?["timestamp"], "TEXT attributes are not metrics")
                let duration = try XCTUnwrap(run.duration)
                XCTAssertGreaterThan(duration, 0)
            }
            // The same numbers as SQL over the epoch rows.
            let sql = try await api.query("""
                select e.tag, max(o.accuracy) as best, count(*) as n from ds_otrainingmodel o
                join task t on t.id = o.trainingmodel_task_id join dataflow_execution e on e.id = t.df_exec
                group by e.tag order by e.tag
                """)
            for (run, best) in zip(answer.runs, sql.doubles("best")) {
                XCTAssertEqual(run.metrics["otrainingmodel"]?["accuracy"]?.max ?? 0, best ?? -1, accuracy: 1e-9)
            }
            XCTAssertEqual(answer.runs.map { Int64($0.metrics["otrainingmodel"]?["accuracy"]?.count ?? 0) }, sql.ints("n").map { $0! })
            // Summaries are readable from SQL as well (a JSON column).
            let fromSQL = try await api.query("select summary from run_summary order by exec_id")
            let counts = try fromSQL.strings("summary").map { text -> Int? in
                let summary = try JSONSerialization.jsonObject(with: Data((text ?? "").utf8)) as? [String: Any]
                let metrics = summary?["metrics"] as? [String: Any]
                let loss = (metrics?["otrainingmodel"] as? [String: Any])?["loss"] as? [String: Any]
                return (loss?["count"] as? NSNumber)?.intValue
            }
            XCTAssertEqual(counts, [20, 20, 20])
        }
    }

    func testStatusFollowsTasksAndARunThatFellSilentIsStale() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location, configuration: .init(port: 0, staleAfter: .seconds(1))) { api in
            try await api.post("/api/v1/dataflows", json: SmallFlow.spec, expect: .created)
            try await api.post("/api/v1/batch", json: ["events": [
                SmallFlow.event(key: "a1", execution: "ok", rows: [[0.5, 1]]),
                SmallFlow.event(key: "a2", execution: "ok", status: "FINISHED", rows: []),
                SmallFlow.event(key: "b1", execution: "bad", rows: [[0.9, 1]]),
                SmallFlow.event(key: "b2", execution: "bad", status: "FAILED", rows: []),
                SmallFlow.event(key: "c1", execution: "going", rows: [[0.7, 1]]),
            ]], expect: .ok)
            var answer = try await self.runs(api, "mnist")
            XCTAssertEqual(answer.runs.map(\.status), ["FINISHED", "FAILED", "RUNNING"])
            XCTAssertEqual(answer.runs.map(\.stale), [false, false, false])
            try await Task.sleep(for: .milliseconds(1300))
            answer = try await self.runs(api, "mnist")
            XCTAssertEqual(answer.runs.map(\.stale), [false, false, true], "only the running run is stale")
            try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "c2", execution: "going", rows: [[0.6, 2]])]], expect: .ok)
            answer = try await self.runs(api, "mnist")
            XCTAssertEqual(answer.runs.last?.stale, false, "news makes it fresh again")
            XCTAssertEqual(answer.runs.last?.metrics["otrainingmodel"]?["loss"], MetricSummary(last: 0.6, min: 0.6, max: 0.7, count: 2))
        }
    }

    func testSummariesAreBuiltForADatabaseWrittenBeforeThem() async throws {
        try XCTSkipIf(TestDatabase.backend == .postgres, "a database of the version before summaries is a SQLite file (PostgreSQL came later, with them)")
        let db = try TestDatabase()
        let before = try await withLiveServer(database: db.location) { api in
            try await self.sendAlexNet(api)
            return try await self.runs(api)
        }
        // As a database of the previous version: no summaries, no migration record.
        let queue = try DatabaseQueue(path: db.location)
        try await queue.write { db in
            try db.execute(sql: "DROP TABLE run_summary; DROP TABLE saved_chart; DROP TABLE live_seq; DELETE FROM grdb_migrations WHERE identifier LIKE 'v4-%'")
        }
        try queue.close()
        let after = try await withLiveServer(database: db.location) { api in try await self.runs(api) }
        XCTAssertEqual(after.runs.count, 3)
        for (a, b) in zip(after.runs, before.runs) {
            XCTAssertEqual(a.params, b.params)
            XCTAssertEqual(a.tables, b.tables)
            XCTAssertEqual(a.metrics, b.metrics)
            XCTAssertEqual(a.status, b.status)
        }
    }

    func testSeriesAreTheStoredRowsAndKeepTheExtremesWhenDownsampled() async throws {
        let db = try TestDatabase()
        let store = try ProvStore.open(db.location)
        _ = try await store.register(try SmallFlow.spec("long"))
        // 10,000 steps; one spike at step 7,777 and one dip at step 2,222.
        var events: [TaskEvent] = []
        for e in stride(from: 1, through: 10_000, by: 500) {
            let rows: [[Value]] = (e..<(e + 500)).map { i in
                let loss = i == 7_777 ? 50.0 : (i == 2_222 ? -5.0 : 1.0 / Double(i))
                return [.number(loss), .number(Double(i))]
            }
            events.append(TaskEvent(dataflow: "long", execution: "run-1", transformation: "trainingmodel", task: "1",
                                    sets: [ElementSet(tag: "otrainingmodel", elements: rows)]))
        }
        _ = try await store.ingest(events)
        store.close()
        try await withLiveServer(database: db.location) { api in
            let run = try await self.runs(api, "long").runs[0].id
            let full = try await api.get("/api/v1/dataflows/long/series?set=otrainingmodel&y=loss&x=epoch&runs=\(run)&points=100000")
            let all = try JSONDecoder().decode(SeriesAnswer.self, from: Data(full.text.utf8))
            XCTAssertEqual(all.series[0].count, 10_000)
            XCTAssertFalse(all.series[0].downsampled)
            XCTAssertEqual(all.series[0].x.count, 10_000)
            XCTAssertEqual(all.series[0].x.prefix(3), [1, 2, 3])

            let small = try await api.get("/api/v1/dataflows/long/series?set=otrainingmodel&y=loss&x=epoch&runs=\(run)&points=400")
            let s = try JSONDecoder().decode(SeriesAnswer.self, from: Data(small.text.utf8)).series[0]
            XCTAssertTrue(s.downsampled)
            XCTAssertEqual(s.count, 10_000)
            XCTAssertLessThanOrEqual(s.x.count, 400)
            XCTAssertEqual(s.values.compactMap { $0 }.max(), 50, "the spike survives")
            XCTAssertEqual(s.values.compactMap { $0 }.min(), -5, "the dip survives")
            XCTAssertEqual(s.x.first, 1)
            XCTAssertEqual(s.x.last, 10_000)
            XCTAssertEqual(s.x.compactMap { $0 }, s.x.compactMap { $0 }.sorted(), "points stay in order")
            XCTAssertEqual(s.lastID, all.series[0].lastID)

            // A zoomed chart asks for its x range: every row there, at full detail.
            let zoomed = try await api.get("/api/v1/dataflows/long/series?set=otrainingmodel&y=loss&x=epoch&runs=\(run)&points=400&from=7700&to=7800")
            let z = try JSONDecoder().decode(SeriesAnswer.self, from: Data(zoomed.text.utf8)).series[0]
            XCTAssertEqual(z.x.compactMap { $0 }, (7700...7800).map(Double.init))
            XCTAssertFalse(z.downsampled)
            XCTAssertEqual(z.values[77], 50, "the spike at 7,777")

            // Bad requests are refused with our message.
            for (query, status) in [("set=otrainingmodel&y=nope&runs=\(run)", 404), ("set=otrainingmodel&y=loss&runs=x", 400),
                                    ("set=otrainingmodel&y=loss&runs=\(run)&points=1", 400), ("set=otrainingmodel&runs=1", 400),
                                    ("set=otrainingmodel&y=loss&runs=999", 404),
                                    ("set=otrainingmodel&y=loss&runs=\(run)&from=9&to=1", 400), ("set=otrainingmodel&y=loss&runs=\(run)&from=x", 400),
                                    ("set=otrainingmodel&y=loss,epoch&runs=\(Array(repeating: String(run), count: 30).joined(separator: ","))&points=100000", 400)] {
                let r = try await api.get("/api/v1/dataflows/long/series?\(query)")
                XCTAssertEqual(Int(r.status.code), status, "\(query): \(r.text)")
                XCTAssertFalse(r.error.isEmpty)
            }
        }
    }

    func testLiveStreamPushesCommitsAndCatchesUpAfterAReconnect() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("/api/v1/dataflows", json: SmallFlow.spec, expect: .created)
            try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "k1", rows: [[0.5, 1]])]], expect: .ok)
            let port = try XCTUnwrap(api.client.port)
            let seq = try await self.runs(api, "mnist").seq
            // A commit between reading the runs and subscribing (a page loading) is not missed.
            try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "k1b", rows: [[0.4, 1]])]], expect: .ok)
            let stream = try SSEReader(port: port, path: "/api/v1/dataflows/mnist/live?since=\(seq)")
            XCTAssertEqual(stream.status, 200)
            XCTAssertTrue(stream.headers.lowercased().contains("content-type: text/event-stream"), stream.headers)
            let missed = try stream.until("run")
            XCTAssertEqual(missed.first?.name, "rows")
            XCTAssertEqual(try JSONDecoder().decode(RunSummary.self, from: Data(missed.last!.data.utf8)).metrics["otrainingmodel"]?["loss"]?.count, 2)

            let sent = Date()
            try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "k2", rows: [[0.25, 2], [0.125, 3]])]], expect: .ok)
            let events = try stream.until("run")
            XCTAssertLessThan(Date().timeIntervalSince(sent), 1, "pushed, not polled")
            let rowsEvent = try XCTUnwrap(events.first { $0.name == "rows" })
            let rows = try JSONDecoder().decode(LiveRows.self, from: Data(rowsEvent.data.utf8))
            XCTAssertEqual(rows.set, "otrainingmodel")
            XCTAssertEqual(rows.execution, "run-1")
            XCTAssertEqual(rows.rows.map { Self.double($0[rows.columns.firstIndex(of: "epoch")!]) }, [2, 3])
            let run = try JSONDecoder().decode(RunSummary.self, from: Data(events.last!.data.utf8))
            XCTAssertEqual(run.metrics["otrainingmodel"]?["loss"]?.last, 0.125)
            XCTAssertEqual(run.metrics["otrainingmodel"]?["loss"]?.count, 4)

            // Away for two commits, then back with the last id seen: both are replayed, in order.
            let lastSeen = try XCTUnwrap(events.last?.id, "\(events)")
            try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "k3", rows: [[0.1, 4]])]], expect: .ok)
            try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "k4", execution: "run-2", rows: [[0.9, 1]])]], expect: .ok)
            let again = try SSEReader(port: port, path: "/api/v1/dataflows/mnist/live", headers: ["Last-Event-ID": lastSeen])
            var replayed: [SSEReader.Event] = []
            while replayed.filter({ $0.name == "run" }).count < 2, let e = try again.next(timeout: 3) { replayed.append(e) }
            let runs = try replayed.filter { $0.name == "run" }.map { try JSONDecoder().decode(RunSummary.self, from: Data($0.data.utf8)) }
            XCTAssertEqual(runs.map(\.execution), ["run-1", "run-2"])
            let ids = replayed.compactMap { $0.id.flatMap { Int64($0) } }
            XCTAssertEqual(ids, ids.sorted())
            XCTAssertGreaterThan(ids.first ?? 0, Int64(lastSeen)!)

            // A position this server never had: reset, so the page reloads.
            let lost = try SSEReader(port: port, path: "/api/v1/dataflows/mnist/live", headers: ["Last-Event-ID": "999999"])
            XCTAssertEqual(try lost.next()?.name, "reset")
            // Another dataflow's stream hears nothing of this one.
            try await api.post("/api/v1/dataflows", json: SmallFlow.specJSON("other"), expect: .created)
            let other = try SSEReader(port: port, path: "/api/v1/dataflows/other/live")
            try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "k5", rows: [[0.05, 5]])]], expect: .ok)
            XCTAssertNil(try other.next(timeout: 0.5))
            let unknown = try await api.get("/api/v1/dataflows/nope/live")
            XCTAssertEqual(unknown.status, .notFound)
        }
    }

    func testEventIDsGoOnAcrossARestart() async throws {
        let db = try TestDatabase()
        let lastSeen: String = try await withLiveServer(database: db.location) { api in
            try await api.post("/api/v1/dataflows", json: SmallFlow.spec, expect: .created)
            let port = try XCTUnwrap(api.client.port)
            let stream = try SSEReader(port: port, path: "/api/v1/dataflows/mnist/live?since=0")
            try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "r1", rows: [[0.5, 1]])]], expect: .ok)
            return try XCTUnwrap(try stream.until("run").last?.id)
        }
        try await withLiveServer(database: db.location) { api in
            let port = try XCTUnwrap(api.client.port)
            // Up to date when the server stopped: nothing missed, no reset; the next commit follows.
            let stream = try SSEReader(port: port, path: "/api/v1/dataflows/mnist/live", headers: ["Last-Event-ID": lastSeen])
            try await api.post("/api/v1/batch", json: ["events": [SmallFlow.event(key: "r2", rows: [[0.25, 2]])]], expect: .ok)
            let events = try stream.until("run")
            XCTAssertFalse(events.contains { $0.name == "reset" }, "\(events)")
            XCTAssertGreaterThan(Int64(try XCTUnwrap(events.last?.id))!, Int64(lastSeen)!, "an event number was handed out twice")
            // Behind when the server stopped: what was missed is gone with the old process, so reset.
            let behind = try SSEReader(port: port, path: "/api/v1/dataflows/mnist/live", headers: ["Last-Event-ID": String(Int64(lastSeen)! - 1)])
            XCTAssertEqual(try behind.next()?.name, "reset")
        }
    }

    func testHyperparametersSurviveTheSummaryCacheStartingOver() async throws {
        let db = try TestDatabase()
        let store = try ProvStore.open(db.location)
        defer { store.close() }
        _ = try await store.register(try SmallFlow.spec("many"))
        // More runs in one job than the writer keeps summaries of, each with its hyperparameters.
        let runs = 1100
        let first = (0..<runs).map { r in
            TaskEvent(dataflow: "many", execution: "run-\(r)", transformation: "trainingmodel", task: "1",
                      sets: [ElementSet(tag: "itrainingmodel", elements: [[.text("opt-\(r)")]])])
        }
        _ = try await store.ingest(first)
        _ = try await store.ingest((0..<3).map { r in
            TaskEvent(dataflow: "many", execution: "run-\(r)", transformation: "trainingmodel", task: "1",
                      sets: [ElementSet(tag: "otrainingmodel", elements: [[.number(0.5), .number(1)]])])
        })
        let answer = try await store.runs(of: "many")
        XCTAssertEqual(answer.runs.count, runs)
        XCTAssertEqual(answer.runs.filter { $0.params["itrainingmodel"]?["optimizer_name"] == nil }.map(\.execution), [])
        XCTAssertEqual(answer.runs[0].metrics["otrainingmodel"]?["loss"]?.count, 1)
    }

    func testSavedChartsSurviveARestartAndMustBeReadOnly() async throws {
        let db = try TestDatabase()
        let saved = try await withLiveServer(database: db.location) { api in
            try await self.sendAlexNet(api)
            let list = try await api.get("/api/v1/charts?dataflow=alexnet")
            let builtin = try JSONDecoder().decode([SavedChart].self, from: Data(list.text.utf8))
            XCTAssertEqual(builtin.map(\.id), ["seed-000-accuracy", "seed-000-loss", "seed-000-epoch-time"])
            // The built-in charts' SQL runs and answers per optimizer.
            let time = try await api.query(builtin[2].sql)
            XCTAssertEqual(Set(time.strings("optimizer_name").compactMap { $0 }), ["adam", "sgd", "rmsprop"])

            let request: [String: Any] = ["dataflow": "alexnet", "title": "best accuracy",
                                          "sql": "select trainingmodel_task_id, max(accuracy) as best from ds_otrainingmodel group by 1",
                                          "chart": ["type": "bar", "x": "trainingmodel_task_id", "y": ["best"]]]
            let created = try await api.post("/api/v1/charts", json: request, expect: .created)
            var writing = request
            writing["sql"] = "delete from task"
            let refused = try await api.post("/api/v1/charts", json: writing, expect: .forbidden)
            XCTAssertTrue(refused.error.contains("read-only"), refused.error)
            try await api.request(.delete, "/api/v1/charts/seed-000-loss", body: nil, contentType: nil, expect: .conflict)
            return try JSONDecoder().decode(SavedChart.self, from: Data(created.text.utf8))
        }
        try await withLiveServer(database: db.location) { api in
            let listed = try await api.get("/api/v1/charts?dataflow=alexnet")
            let list = try JSONDecoder().decode([SavedChart].self, from: Data(listed.text.utf8))
            XCTAssertEqual(list.last, saved)
            try await api.request(.delete, "/api/v1/charts/\(saved.id)", body: nil, contentType: nil, expect: .ok)
            try await api.request(.delete, "/api/v1/charts/\(saved.id)", body: nil, contentType: nil, expect: .notFound)
            let remaining = try await api.get("/api/v1/charts?dataflow=alexnet")
            XCTAssertEqual(try JSONDecoder().decode([SavedChart].self, from: Data(remaining.text.utf8)).count, 3)
        }
    }

    static func double(_ v: QueryValue) -> Double? {
        switch v {
        case .integer(let i): return Double(i)
        case .real(let d): return d
        default: return nil
        }
    }

    func testTheUIIsServedWithItsSecurityHeadersAndOldAddressesLeadToIt() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            let page = try await api.client.execute(uri: "/", method: .get) { $0 }
            XCTAssertEqual(page.status, .ok)
            XCTAssertTrue(page.headers[.contentType]?.hasPrefix("text/html") ?? false)
            XCTAssertTrue(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") ?? false)
            XCTAssertTrue(String(buffer: page.body).contains("<html"))
            for path in ["/ui/nope.js", "/ui/../Package.swift", "/ui/.hidden", "/ui/%2e%2e/Package.swift"] {
                let r = try await api.get(path)
                XCTAssertTrue([.notFound, .badRequest].contains(r.status), "\(path): \(r.status)")
            }
            let viewer = try await api.client.execute(uri: "/dfview/alexnet", method: .get) { $0 }
            XCTAssertEqual(viewer.headers[.location], "/#/d/alexnet/graph")
            let query = try await api.client.execute(uri: "/query_interface/alexnet/1", method: .get) { $0 }
            XCTAssertEqual(query.headers[.location], "/#/d/alexnet/query")
        }
    }
}

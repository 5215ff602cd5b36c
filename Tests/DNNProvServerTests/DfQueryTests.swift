@testable import DNNProvServer
import DNNProvPostgres
import DNNProvClient
import DNNProvModel
import DNNProvStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import XCTest
import DNNProvTestSupport

/// DfAnalyzer's query language (docs/dfanalyzer.md, "Query language"): the parser, the SQL it
/// generates over the predefined DL dataflow, the rows that SQL returns against hand-written
/// SQL, both routes over loopback HTTP, roles and scopes, and the CLI. Real SQLite files.
final class DfQueryTests: XCTestCase {
    // MARK: parser

    func testParserReadsEachKeyword() throws {
        let q = try DfQueryParser.parse("""
            # DfAnalyzer's example, with a projection broken over two lines as its README writes it
            MAPPING(Hybrid)
            source(ds_iTrainingModel)
            target(oadaptation; otestingmodel;)
            include(otrainingmodel)
            exclude(ilayers, iadaptation)
            projection(itrainingmodel.optimizer_name; otrainingmodel.*;
                       "val-loss" AS vl, otestingmodel.accuracy acc)
            selection(otrainingmodel.loss < 0.5; itrainingmodel.optimizer_name = 'it''s; fine')
            selection(not (otrainingmodel.epoch between 2 and 4 or otrainingmodel.epoch in (7, 8)))
            """)
        XCTAssertEqual(q.mapping, .hybrid)
        XCTAssertEqual(q.sources, ["ds_itrainingmodel"])
        XCTAssertEqual(q.targets, ["oadaptation", "otestingmodel"])
        XCTAssertEqual(q.includes, ["otrainingmodel"])
        XCTAssertEqual(q.excludes, ["ilayers", "iadaptation"])
        typealias N = DfQuery.Name
        XCTAssertEqual(q.projections, [
            DfQuery.Projection(DfQuery.Reference([N("itrainingmodel"), N("optimizer_name")])),
            DfQuery.Projection(DfQuery.Reference([N("otrainingmodel")], star: true)),
            DfQuery.Projection(DfQuery.Reference([N("val-loss", quoted: true)]), alias: N("vl")),
            DfQuery.Projection(DfQuery.Reference([N("otestingmodel"), N("accuracy")]), alias: N("acc")),
        ])
        XCTAssertEqual(q.selections.count, 3)
        XCTAssertEqual(q.selections[0], .binary("<", .column(DfQuery.Reference([N("otrainingmodel"), N("loss")])), .literal(.number("0.5"))))
        XCTAssertEqual(q.selections[1], .binary("=", .column(DfQuery.Reference([N("itrainingmodel"), N("optimizer_name")])),
                                                .literal(.string("it's; fine"))))
        guard case .unary("NOT", .group(.binary("OR", .between(_, false, _, _), .inList(_, false, let items)))) = q.selections[2] else {
            return XCTFail("\(q.selections[2])")
        }
        XCTAssertEqual(items, [.literal(.number("7")), .literal(.number("8"))])

        for mapping in DfQuery.Mapping.allCases {
            XCTAssertEqual(try DfQueryParser.parse("mapping( \(mapping.rawValue.uppercased()) )\nsource(a)").mapping, mapping)
        }
        XCTAssertEqual(try DfQueryParser.parse("source(a)").mapping, .physical, "physical when none is named")
        // DfAnalyzer's clients send one clause per line; clauses on one line work too.
        XCTAssertEqual(try DfQueryParser.parse("source(a) target(b)").targets, ["b"])
    }

    func testParserRefusesBadInputNamingLineAndKeyword() {
        let cases: [(String, String)] = [
            ("source(a)\nsourse(b)", "line 2: unknown keyword 'sourse'"),
            ("source(a)\n\ntarget b", "line 3: 'target' must be followed by '('"),
            ("source(a)\nselection(x > 1", "line 2: selection(...) does not end"),
            ("source(a)\nselection(x = 'abc)", "line 2: selection(...) does not end: a string is never closed"),
            ("mapping(physics)", "line 1, mapping(...): unknown mapping 'physics'"),
            ("mapping(physical)\nmapping(logical)", "line 2, mapping(...): the mapping is already given on line 1"),
            ("mapping()", "line 1, mapping(...): give one mapping"),
            ("source()", "line 1, source(...): name at least one dataset"),
            ("source(a b)", "line 1, source(...): 'a b' is not a dataset name"),
            ("source(a)\ntarget(b)\nselection(b.loss >)", "line 3, selection(...): expected a value or an attribute, found the end"),
            ("selection(a = 1 = 2)", "line 1, selection(...): expected AND, OR or the end of the condition, found '='"),
            ("selection(max(a.x) > 1)", "line 1, selection(...): 'max(' calls a function"),
            ("selection(a.x > 1 and)", "expected a value or an attribute, found the end"),
            ("selection(a.x between 1)", "BETWEEN needs AND"),
            ("selection(a.x in 1)", "IN needs a list"),
            ("selection(a.x not 1)", "NOT here must be followed by LIKE, GLOB, BETWEEN or IN"),
            ("selection(a.x > 1abc)", "'1abc' is neither a number nor a name"),
            ("selection(a.x ; drop table t)", "line 1, selection(...): expected AND, OR or the end of the condition, found 'table'"),
            ("selection(a.x > 1; b.y ! 2)", "unexpected character '!'"),
            ("selection(\"\" = 1)", "an empty quoted name"),
            ("projection(a.x y z)", "line 1, projection(...): unexpected 'z'"),
            ("projection(a.* AS b)", "cannot be renamed"),
            ("projection(a.)", "expected an attribute"),
            ("select * from task", "line 1: unknown keyword 'select'"),
            ("source(a); DROP TABLE x", "unknown keyword 'DROP'"),
            ("(a)", "line 1: expected a clause such as source(...), found '(a)'"),
            ("source(a)\n" + String(repeating: "selection(", count: 1) + String(repeating: "(", count: 100) + "a.x" + String(repeating: ")", count: 101),
             "nests more than 64 levels"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try DfQueryParser.parse(text), text) { error in
                guard let e = error as? ProvError else { return XCTFail("\(text): \(error)") }
                XCTAssertEqual(e.kind, .badRequest, text)
                XCTAssertTrue(e.message.contains(expected), "\(text)\n  said: \(e.message)\n  expected: \(expected)")
            }
        }
    }

    // MARK: SQL

    /// The predefined DL dataflow (DESIGN.md §2), as the store has it.
    func predefinedGraph() async throws -> DfDataflowGraph {
        let db = try TestDatabase()
        let store = try ProvStore.open(db.location)
        defer { store.close() }
        _ = try await store.register(DataflowBuilder.predefined("dl").spec)
        return try DfDataflowGraph(store: store, dataflow: "dl")
    }

    func sql(_ text: String, _ graph: DfDataflowGraph) throws -> String {
        try DfQueryParser.parse(text).sql(over: graph)
    }

    func testPhysicalMappingJoinsOnTaskIDsAlongThePath() async throws {
        let graph = try await predefinedGraph()
        XCTAssertEqual(try sql("""
            mapping(physical)
            source(itrainingmodel)
            target(oadaptation)
            projection(itrainingmodel.optimizer_name; otrainingmodel.epoch; otrainingmodel.loss; oadaptation.new_lrate)
            selection(otrainingmodel.loss < 0.5)
            """, graph), """
            SELECT
              ds_itrainingmodel.optimizer_name,
              ds_otrainingmodel.epoch,
              ds_otrainingmodel.loss,
              ds_oadaptation.new_lrate
            FROM ds_itrainingmodel
            JOIN ds_otrainingmodel ON ds_otrainingmodel.trainingmodel_task_id = ds_itrainingmodel.trainingmodel_task_id
            JOIN ds_oadaptation ON ds_oadaptation.adaptation_task_id = ds_otrainingmodel.adaptation_task_id
            WHERE ds_otrainingmodel.loss < 0.5
            ORDER BY ds_itrainingmodel.id, ds_otrainingmodel.id, ds_oadaptation.id
            """)
        // Names as DfAnalyzer's scripts write them: ds_ prefixes, unqualified attributes (when one
        // joined dataset has them), upper case; several selections are ANDed, ORs kept whole.
        XCTAssertEqual(try sql("""
            source(DS_ITRAININGMODEL)
            target(ds_otrainingmodel)
            projection(OPTIMIZER_NAME; ds_otrainingmodel.Epoch)
            selection(Loss < 0.5 or epoch = 1; optimizer_name like 'ad%'; -epoch > -3)
            """, graph), """
            SELECT ds_itrainingmodel.optimizer_name, ds_otrainingmodel.epoch
            FROM ds_itrainingmodel
            JOIN ds_otrainingmodel ON ds_otrainingmodel.trainingmodel_task_id = ds_itrainingmodel.trainingmodel_task_id
            WHERE (ds_otrainingmodel.loss < 0.5 OR ds_otrainingmodel.epoch = 1)
              AND ds_itrainingmodel.optimizer_name LIKE 'ad%'
              AND -ds_otrainingmodel.epoch > -3
            ORDER BY ds_itrainingmodel.id, ds_otrainingmodel.id
            """)
        // Upstream: a source below its target is joined along the same path.
        XCTAssertEqual(try sql("source(otrainingmodel)\ntarget(ilayers)\nprojection(ilayers.name; otrainingmodel.loss)", graph), """
            SELECT ds_ilayers.name, ds_otrainingmodel.loss
            FROM ds_otrainingmodel
            JOIN ds_ilayers ON ds_ilayers.trainingmodel_task_id = ds_otrainingmodel.trainingmodel_task_id
            ORDER BY ds_otrainingmodel.id, ds_ilayers.id
            """)
        // One dataset: no target, or the source again.
        XCTAssertEqual(try sql("source(otestingmodel)\nselection(accuracy >= 0.5)", graph), """
            SELECT ds_otestingmodel.accuracy, ds_otestingmodel.loss, ds_otestingmodel.epoch
            FROM ds_otestingmodel
            WHERE ds_otestingmodel.accuracy >= 0.5
            ORDER BY ds_otestingmodel.id
            """)
    }

    func testLogicalAndHybridMappingsJoinOnSameNamedAttributes() async throws {
        let graph = try await predefinedGraph()
        XCTAssertEqual(try sql("mapping(logical)\nsource(otrainingmodel)\ntarget(otestingmodel)", graph), """
            SELECT
              ds_otrainingmodel.timestamp,
              ds_otrainingmodel.elapsed_time,
              ds_otrainingmodel.loss AS otrainingmodel_loss,
              ds_otrainingmodel.accuracy AS otrainingmodel_accuracy,
              ds_otrainingmodel.epoch AS otrainingmodel_epoch,
              ds_otestingmodel.accuracy AS otestingmodel_accuracy,
              ds_otestingmodel.loss AS otestingmodel_loss,
              ds_otestingmodel.epoch AS otestingmodel_epoch
            FROM ds_otrainingmodel
            JOIN ds_otestingmodel ON ds_otestingmodel.loss = ds_otrainingmodel.loss AND ds_otestingmodel.accuracy = ds_otrainingmodel.accuracy AND ds_otestingmodel.epoch = ds_otrainingmodel.epoch
            ORDER BY ds_otrainingmodel.id, ds_otestingmodel.id
            """)
        XCTAssertEqual(try sql("mapping(hybrid)\nsource(otrainingmodel)\ntarget(otestingmodel)\nprojection(otestingmodel.accuracy)", graph), """
            SELECT ds_otestingmodel.accuracy
            FROM ds_otrainingmodel
            JOIN ds_otestingmodel ON ds_otestingmodel.testingmodel_task_id = ds_otrainingmodel.testingmodel_task_id AND ds_otestingmodel.loss = ds_otrainingmodel.loss AND ds_otestingmodel.accuracy = ds_otrainingmodel.accuracy AND ds_otestingmodel.epoch = ds_otrainingmodel.epoch
            ORDER BY ds_otrainingmodel.id, ds_otestingmodel.id
            """)
        // itrainingmodel and otrainingmodel share no attribute: logical has nothing to join on.
        XCTAssertThrowsError(try sql("mapping(logical)\nsource(itrainingmodel)\ntarget(otrainingmodel)", graph)) { e in
            XCTAssertTrue("\(e)".contains("mapping(logical): datasets 'itrainingmodel' and 'otrainingmodel' have no attribute of the same name"), "\(e)")
        }
    }

    /// Two paths from a to d (a -> b -> d, a -> c -> d): both are joined; include and exclude choose.
    func testEveryPathIsJoinedAndIncludeExcludeChoose() throws {
        let graph = DfDataflowGraph(dataflow: "diamond", sets: [
            .init(tag: "a", taskColumns: ["t1_task_id", "t2_task_id"], attributes: ["x"]),
            .init(tag: "b", taskColumns: ["t1_task_id", "t3_task_id"], attributes: ["y"]),
            .init(tag: "c", taskColumns: ["t2_task_id", "t3_task_id"], attributes: ["select"]),
            .init(tag: "d", taskColumns: ["t3_task_id"], attributes: ["z", "val-loss"]),
            .init(tag: "e", taskColumns: [], attributes: ["w"]),
        ], transformations: [
            .init(tag: "t1", inputs: ["a"], outputs: ["b"]),
            .init(tag: "t2", inputs: ["a"], outputs: ["c"]),
            .init(tag: "t3", inputs: ["b", "c"], outputs: ["d"]),
        ])
        XCTAssertEqual(try sql("source(a)\ntarget(d)", graph), """
            SELECT ds_a.x, ds_d.z, ds_d."val-loss"
            FROM ds_a
            JOIN ds_b ON ds_b.t1_task_id = ds_a.t1_task_id
            JOIN ds_d ON ds_d.t3_task_id = ds_b.t3_task_id
            JOIN ds_c ON ds_c.t2_task_id = ds_a.t2_task_id AND ds_c.t3_task_id = ds_d.t3_task_id
            ORDER BY ds_a.id, ds_b.id, ds_d.id, ds_c.id
            """)
        XCTAssertEqual(try sql("source(a)\ntarget(d)\nexclude(b)\nprojection(c.select; d.\"val-loss\")\nselection(\"select\" = \"adam\")", graph), """
            SELECT ds_c."select", ds_d."val-loss"
            FROM ds_a
            JOIN ds_c ON ds_c.t2_task_id = ds_a.t2_task_id
            JOIN ds_d ON ds_d.t3_task_id = ds_c.t3_task_id
            WHERE ds_c."select" = 'adam'
            ORDER BY ds_a.id, ds_c.id, ds_d.id
            """)
        XCTAssertEqual(try sql("source(a)\ntarget(d)\ninclude(b)\nprojection(*)", graph), """
            SELECT ds_a.x, ds_b.y, ds_d.z, ds_d."val-loss"
            FROM ds_a
            JOIN ds_b ON ds_b.t1_task_id = ds_a.t1_task_id
            JOIN ds_d ON ds_d.t3_task_id = ds_b.t3_task_id
            ORDER BY ds_a.id, ds_b.id, ds_d.id
            """)
        let refusals: [(String, String)] = [
            ("source(a)\ntarget(e)", "no path of dataflow 'diamond' links 'a' and 'e'"),
            ("source(a)\ntarget(d)\nexclude(b; c)", "no path of dataflow 'diamond' links 'a' and 'd' avoiding b, c"),
            ("source(b)\ntarget(c)", "no path of dataflow 'diamond' links 'b' and 'c'"),
            ("source(a)\ntarget(d)\nexclude(d)", "names the target itself"),
            ("source(nosuch)\ntarget(d)", "source(...): dataflow 'diamond' has no dataset 'nosuch'; its datasets: a, b, c, d, e"),
            ("target(d)", "the query needs source(...)"),
            ("source(a; b)", "several sources and no target"),
            ("source(a)\ntarget(d)\ninclude(b)\nprojection(c.select)", "'c.select' is in dataset 'c', which the query does not join (it joins a, b, d)"),
            ("source(a)\ntarget(b)\nprojection(w)", "'w' is in e, which the query does not join"),
            ("source(a)\ntarget(d)\nprojection(t3_task_id)", "'t3_task_id' is in several datasets joined (b, d, c)"),
            ("source(a)\ntarget(d)\nprojection(d.nosuch)", "dataset 'd' has no attribute 'nosuch'; it has z, val-loss"),
            ("source(a)\ntarget(d)\nprojection(q.x)", "has no dataset 'q' (in 'q.x')"),
            ("source(a)\nselection(nosuch = 1)", "no dataset of dataflow 'diamond' has an attribute 'nosuch'"),
            ("source(a)\nselection(a.* = 1)", "expected an attribute name after '.'"),
        ]
        for (text, expected) in refusals {
            XCTAssertThrowsError(try sql(text, graph), text) { error in
                XCTAssertEqual((error as? ProvError)?.kind, .badRequest, text)
                XCTAssertTrue("\(error)".contains(expected), "\(text)\n  said: \(error)\n  expected: \(expected)")
            }
        }
    }

    /// Values and names never leave the statement: strings are re-quoted, numbers checked, names
    /// resolved against the dataflow; the query guard sees one SELECT.
    func testSelectionsCannotInjectSQL() async throws {
        let graph = try await predefinedGraph()
        let text = try sql("source(itrainingmodel)\nselection(optimizer_name = 'x''; DROP TABLE task; --' or optimizer_name = \"a\"\"b\")", graph)
        XCTAssertTrue(text.contains("WHERE ds_itrainingmodel.optimizer_name = 'x''; DROP TABLE task; --' OR ds_itrainingmodel.optimizer_name = 'a\"b'"), text)
        // A hand-made DfQuery with values the parser would never produce is refused too.
        var q = DfQuery(sources: ["itrainingmodel"])
        q.selections = [.binary("=", .literal(.number("1; DROP TABLE task")), .literal(.number("1")))]
        XCTAssertThrowsError(try q.sql(over: graph))
        q.selections = [.binary("; DROP", .literal(.number("1")), .literal(.number("1")))]
        XCTAssertThrowsError(try q.sql(over: graph))
        q.selections = [.unary("-", .unary("-", .literal(.number("1"))))]
        XCTAssertTrue(try q.sql(over: graph).contains("WHERE -(-1)"), "never '--', which starts a comment")
        XCTAssertTrue(try sql("source(otrainingmodel)\nselection(epoch > 1 --epoch)", graph).contains("WHERE ds_otrainingmodel.epoch > 1 - -ds_otrainingmodel.epoch"))
    }

    /// Mutated queries: the parser and the generator answer a query or a 400, never trap.
    func testFuzzedQueriesNeverTrap() async throws {
        let graph = try await predefinedGraph()
        let valid = [
            "mapping(hybrid)\nsource(itrainingmodel; ilayers)\ntarget(oadaptation;otestingmodel)\ninclude(otrainingmodel)\nexclude(iadaptation)\n"
                + "projection(itrainingmodel.optimizer_name; otrainingmodel.*; oadaptation.new_lrate AS lr)\n"
                + "selection(otrainingmodel.loss < 0.5 and (epoch between 1 and 3 or not itrainingmodel.optimizer_name like 'a%'); lr is not null)",
            "source(otrainingmodel)\nselection(-(loss + 1) * 2 / 3 % 4 || 'x' in (1, 2.5e3, 'a') ; \"epoch\" != .5)",
        ]
        var rng = FuzzTests.Rng(state: 8_2026)
        var parsed = 0
        for round in 0..<3000 {
            var text = FuzzTests.mutate(valid[round % valid.count], &rng)
            if rng.below(2) == 0 { text = FuzzTests.mutate(text, &rng) }
            do {
                let q = try DfQueryParser.parse(text)
                parsed += 1
                _ = try q.sql(over: graph)
            } catch let e as ProvError {
                XCTAssertEqual(e.kind, .badRequest, text)
                XCTAssertFalse(e.message.isEmpty)
            }
        }
        XCTAssertGreaterThan(parsed, 100, "the mutations leave some queries valid")
    }

    /// The same over HTTP, run against stored rows: 2xx or 4xx, never a 5xx.
    func testMutatedQueriesNeverGet5xx() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("/api/v1/dataflows", json: AlexNet.spec, expect: .created)
            for batch in AlexNet.batches(run: 0) { try await api.post("/api/v1/batch", json: ["events": batch], expect: .ok) }
            let valid = "mapping(hybrid)\nsource(itrainingmodel)\ntarget(oadaptation)\n"
                + "projection(itrainingmodel.optimizer_name; otrainingmodel.*; oadaptation.new_lrate AS lr)\n"
                + "selection(otrainingmodel.loss < 0.5 or epoch in (1, 2); optimizer_name like 'a%' and -lr <= 1e-3 || 'x')"
            var rng = FuzzTests.Rng(state: 25_11_2026)
            for round in 0..<200 {
                let text = FuzzTests.mutate(valid, &rng)
                let json = String(decoding: try JSONSerialization.data(withJSONObject: ["query": text, "limit": 50]), as: UTF8.self)
                for (path, body, type) in [("/api/v1/dataflows/alexnet/dfquery", json, "application/json"),
                                           ("/query_interface/alexnet/1", text, "text/plain")] {
                    let r = try await api.request(.post, path, body: body, contentType: type)
                    XCTAssertLessThan(r.status.code, 500, "round \(round) \(path): \(text) -> \(r.text.prefix(300))")
                }
            }
        }
    }

    // MARK: rows

    /// A flow where the logical mapping finds rows: train writes (epoch, loss), adapt reads them
    /// and writes (epoch, lr) for two of the epochs.
    func epochFlow(_ store: ProvStore) async throws {
        let spec = DataflowBuilder("epochs")
            .transformation("train").output("otrain", [.numeric("epoch"), .numeric("loss")])
            .transformation("adapt").input("otrain", from: "train").output("oadapt", [.numeric("epoch"), .numeric("lr")])
            .spec
        _ = try await store.register(spec)
        _ = try await store.ingest([
            TaskEvent(dataflow: "epochs", execution: "r1", transformation: "train", task: "1", status: .finished,
                      sets: [ElementSet(tag: "otrain", elements: (1...4).map { [.number(Double($0)), .number(1 / Double($0))] })]),
            TaskEvent(dataflow: "epochs", execution: "r1", transformation: "adapt", task: "2", status: .finished,
                      dependencies: [TaskRef(transformation: "train", task: "1")],
                      sets: [ElementSet(tag: "oadapt", elements: [[.number(2), .number(0.1)], [.number(4), .number(0.05)]])]),
        ])
    }

    func testMappingsReturnTheRowsOfHandWrittenSQL() async throws {
        let db = try TestDatabase()
        let store = try ProvStore.open(db.location)
        defer { store.close() }
        try await epochFlow(store)
        let options = QueryOptions(dataflow: "epochs")
        let cases: [(DfQuery.Mapping, String, Int)] = [
            (.physical, "select t.epoch, t.loss, a.epoch, a.lr from ds_otrain t join ds_oadapt a on a.adapt_task_id = t.adapt_task_id order by t.id, a.id", 8),
            (.logical, "select t.epoch, t.loss, a.epoch, a.lr from ds_otrain t join ds_oadapt a on a.epoch = t.epoch order by t.id, a.id", 2),
            (.hybrid, "select t.epoch, t.loss, a.epoch, a.lr from ds_otrain t, ds_oadapt a where a.adapt_task_id = t.adapt_task_id and a.epoch = t.epoch order by t.id, a.id", 2),
        ]
        for (mapping, handWritten, count) in cases {
            let generated = try store.dfQuerySQL("mapping(\(mapping.rawValue))\nsource(otrain)\ntarget(oadapt)", dataflow: "epochs")
            let rows = try await store.query(generated, options: options).rows
            let expected = try await store.query(handWritten, options: options).rows
            XCTAssertEqual(rows, expected, "\(mapping)\n\(generated)")
            XCTAssertEqual(rows.count, count, "\(mapping)")
        }
        let selected = try store.dfQuerySQL("mapping(logical)\nsource(otrain)\ntarget(oadapt)\nprojection(otrain.loss; lr)\nselection(lr < 0.1)",
                                            dataflow: "epochs")
        let selectedRows = try await store.query(selected, options: options).rows
        XCTAssertEqual(selectedRows, [[.real(0.25), .real(0.05)]])
    }

    /// The AlexNet flow of the seeds over loopback HTTP: the generated query returns what the
    /// hand-written one does; `/query_interface` (form field, raw body, CSV or JSON) and
    /// `/api/v1/dataflows/{tag}/dfquery` give the same rows.
    func testRoutesAnswerTheRowsOfHandWrittenSQL() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            try await api.post("/api/v1/dataflows", json: AlexNet.spec, expect: .created)
            for r in AlexNet.runs.indices {
                for batch in AlexNet.batches(run: r) {
                    try await api.post("/api/v1/batch", json: ["events": batch], expect: .ok)
                }
            }
            let text = """
                mapping(physical)
                source(itrainingmodel)
                target(oadaptation)
                projection(itrainingmodel.optimizer_name; otrainingmodel.epoch; otrainingmodel.loss; oadaptation.new_lrate)
                selection(otrainingmodel.loss < 0.3; itrainingmodel.optimizer_name <> 'sgd')
                """
            let answer = try await api.post("/api/v1/dataflows/alexnet/dfquery", json: ["query": text, "run": true, "limit": 1000])
            XCTAssertEqual(answer.status, .ok, answer.text)
            let decoded = try JSONDecoder().decode(DfQueryAnswer.self, from: Data(answer.text.utf8))
            let result = try XCTUnwrap(decoded.result)
            XCTAssertEqual(result.columns.map(\.name), ["optimizer_name", "epoch", "loss", "new_lrate"])

            let hand = try await api.queryResponse("""
                select i.optimizer_name, o.epoch, o.loss, a.new_lrate
                from ds_itrainingmodel i
                join ds_otrainingmodel o on o.trainingmodel_task_id = i.trainingmodel_task_id
                join ds_oadaptation a on a.adaptation_task_id = o.adaptation_task_id
                where o.loss < 0.3 and i.optimizer_name <> 'sgd'
                order by i.id, o.id, a.id
                """, dataflow: "alexnet")
            XCTAssertEqual(hand.status, .ok, hand.text)
            let expected = try JSONDecoder().decode(QueryResult.self, from: Data(hand.text.utf8)).rows
            XCTAssertEqual(result.rows, expected)
            // adam (run 0) and rmsprop (run 2): epochs with loss < 0.3, each with both adaptations.
            let epochs = (0..<3).filter { AlexNet.runs[$0].optimizer != "sgd" }
                .map { r in (1...AlexNet.epochs).filter { AlexNet.loss(r, $0) < 0.3 }.count * 2 }.reduce(0, +)
            XCTAssertEqual(result.rows.count, epochs)
            XCTAssertGreaterThan(epochs, 0)

            // The SQL alone, and the same SQL through POST /api/v1/query.
            let sqlOnly = try await api.post("/api/v1/dataflows/alexnet/dfquery", json: ["query": text, "run": false])
            XCTAssertEqual(sqlOnly.status, .ok, sqlOnly.text)
            XCTAssertTrue(sqlOnly.object["result"] is NSNull, "result is null: \(sqlOnly.text)")
            XCTAssertEqual(sqlOnly.object["sql"] as? String, decoded.sql)
            let again = try await api.query(decoded.sql)
            XCTAssertEqual(again.count, expected.count)

            // DfAnalyzer's route: a form with the field `message`, answered as DfAnalyzer's CSV.
            let form = "message=" + text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let csv = try await api.request(.post, "/query_interface/alexnet/1", body: form, contentType: "application/x-www-form-urlencoded")
            XCTAssertEqual(csv.status, .ok, csv.text)
            let lines = csv.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(lines.first, #""optimizer_name";"epoch";"loss";"new_lrate""#)
            XCTAssertEqual(lines.last, "", "every line ends with a newline")
            let fields = lines.dropFirst().dropLast().map {
                $0.split(separator: ";", omittingEmptySubsequences: false).map { String($0.dropFirst().dropLast()) }
            }
            XCTAssertEqual(fields.count, expected.count)
            for (row, values) in zip(fields, expected) {
                XCTAssertEqual(row.count, values.count)
                for (field, value) in zip(row, values) {
                    // JSON turns a whole REAL into an integer; compare numbers as numbers.
                    if let d = value.double, let f = Double(field) { XCTAssertEqual(f, d, field) } else { XCTAssertEqual(field, value.display) }
                }
            }

            // The raw body (DfAnalyzer's own clients sent the text), curl's unencoded -d, JSON.
            let raw = try await api.request(.post, "/query_interface/alexnet/7", body: text, contentType: "text/plain")
            XCTAssertEqual(raw.text, csv.text)
            let unencoded = try await api.request(.post, "/query_interface/alexnet/1", body: "message=" + text, contentType: nil)
            XCTAssertEqual(unencoded.text, csv.text)
            let json = try await api.request(.post, "/query_interface/alexnet/1?format=json", body: text, contentType: nil)
            let viaForm = try JSONDecoder().decode(DfQueryAnswer.self, from: Data(json.text.utf8))
            XCTAssertEqual(viaForm.sql, decoded.sql)
            XCTAssertEqual(viaForm.result?.rows, expected)
            let sql = try await api.request(.post, "/query_interface/alexnet/1?format=sql", body: form, contentType: "application/x-www-form-urlencoded")
            XCTAssertEqual(sql.text, decoded.sql + "\n")

            // Errors: 400 with the parser's words, 404 for an unknown dataflow.
            let bad = try await api.request(.post, "/query_interface/alexnet/1", body: "source(itrainingmodel)\nprojection(nosuch)", contentType: nil)
            XCTAssertEqual(bad.status, .badRequest)
            XCTAssertTrue(bad.error.contains("projection(...): no dataset of dataflow 'alexnet' has an attribute 'nosuch'"), bad.text)
            let badLine = try await api.post("/api/v1/dataflows/alexnet/dfquery", json: ["query": "source(itrainingmodel)\nsourse(x)"])
            XCTAssertEqual(badLine.status, .badRequest)
            XCTAssertEqual(badLine.error, "line 2: unknown keyword 'sourse'; the query language has mapping(...), source(...), target(...), include(...), exclude(...), projection(...), selection(...)")
            let noForm = try await api.request(.post, "/query_interface/alexnet/1", body: "query=x", contentType: "application/x-www-form-urlencoded")
            XCTAssertEqual(noForm.status, .badRequest)
            XCTAssertTrue(noForm.error.contains("no field 'message'"), noForm.text)
            let unknown = try await api.request(.post, "/query_interface/nosuch/1", body: text, contentType: nil)
            XCTAssertEqual(unknown.status, .notFound, unknown.text)
            try await api.post("/api/v1/dataflows/nosuch/dfquery", json: ["query": text], expect: .notFound)
            try await api.post("/api/v1/dataflows/alexnet/dfquery", json: ["query": text, "limit": 0], expect: .badRequest)
            let limited = try await api.post("/api/v1/dataflows/alexnet/dfquery", json: ["query": text, "limit": 2], expect: .ok)
            XCTAssertEqual((limited.object["result"] as? [String: Any])?["truncated"] as? Bool, true)
        }
    }

    // MARK: roles and scopes

    func testReadersUseItAndScopesHideOtherDataflows() async throws {
        let db = try TestDatabase()
        let store = try ProvStore.open(db.location)
        defer { store.close() }
        for tag in ["alexnet", "secret"] {
            _ = try await store.register(SmallFlow.spec(tag))
            _ = try await store.ingest(SmallFlow.events(tag, epochs: 3))
        }
        let reader = try await store.createToken(TokenRequest(role: .reader)).secret
        let scoped = try await store.createToken(TokenRequest(role: .reader, dataflows: ["alexnet"])).secret
        let app = try buildApplication(store: store, configuration: ServerConfiguration(port: 0, auth: .required))
        try await app.test(.live) { client in
            let api = LiveAPI(client: client)
            let text = "source(otrainingmodel)\nprojection(epoch)"
            func dfquery(_ tag: String, _ token: String?) async throws -> APIResponse {
                try await api.request(.post, "/api/v1/dataflows/\(tag)/dfquery", body: #"{"query": "source(otrainingmodel)"}"#, token: token)
            }
            let anonymous = try await dfquery("alexnet", nil)
            XCTAssertEqual(anonymous.status, .unauthorized)
            let ok = try await dfquery("alexnet", reader)
            XCTAssertEqual(ok.status, .ok, ok.text)
            let rows = ((ok.object["result"] as? [String: Any])?["rows"] as? [[Any]] ?? []).map { $0.map { ($0 as? NSNumber)?.doubleValue } }
            XCTAssertEqual(rows, [[1.0, 1], [0.5, 2], [1.0 / 3, 3]])
            let unscoped = try await dfquery("secret", reader)
            XCTAssertEqual(unscoped.status, .ok)
            let inScope = try await dfquery("alexnet", scoped)
            XCTAssertEqual(inScope.status, .ok)
            let hidden = try await dfquery("secret", scoped)
            XCTAssertEqual(hidden.status, .notFound)
            XCTAssertEqual(hidden.error, "unknown dataflow 'secret'")

            // DfAnalyzer's route, with the token in a header or in the path.
            let viaHeader = try await api.request(.post, "/query_interface/alexnet/1", body: text, contentType: nil, token: scoped)
            XCTAssertEqual(viaHeader.status, .ok, viaHeader.text)
            XCTAssertEqual(viaHeader.text, "\"epoch\"\n\"1.0\"\n\"2.0\"\n\"3.0\"\n")
            let viaPath = try await api.request(.post, "/t/\(scoped)/query_interface/alexnet/1", body: text, contentType: nil)
            XCTAssertEqual(viaPath.text, viaHeader.text)
            let hiddenViaPath = try await api.request(.post, "/t/\(scoped)/query_interface/secret/2", body: text, contentType: nil)
            XCTAssertEqual(hiddenViaPath.status, .notFound)
            let noToken = try await api.request(.post, "/query_interface/alexnet/1", body: text, contentType: nil)
            XCTAssertEqual(noToken.status, .unauthorized)
        }
    }

    // MARK: CLI

    func testCommandLineTranslatesAndRuns() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("dnnprov-dfquery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let db = scratch.appendingPathComponent("prov.sqlite").path
        let server = try ServerProcess(database: db)
        defer { server.stop() }
        XCTAssertTrue((200..<300).contains(try HTTP.post(server.url + "/api/v1/dataflows", json: CLITests.specJSON).status))
        let events: [[String: Any]] = [
            ["dataflow": "clirun", "execution": "run-a", "transformation": "trainingmodel", "task": "1", "status": "FINISHED", "sets": [
                ["tag": "itrainingmodel", "elements": [["adam", 0.001]]],
                ["tag": "otrainingmodel", "elements": [[0.9, 0.41, 1], [0.5, 0.77, 2]]]]],
        ]
        XCTAssertEqual(try HTTP.post(server.url + "/api/v1/batch", json: ["events": events]).status, 200)
        let text = """
            mapping(physical)
            source(itrainingmodel)
            target(otrainingmodel)
            projection(itrainingmodel.optimizer_name; otrainingmodel.epoch; otrainingmodel.loss)
            selection(otrainingmodel.loss < 0.8)
            """
        let file = scratch.appendingPathComponent("q.txt").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        for args in [["clirun", text, "--url", server.url], ["clirun", "--file", file, "--db", db]] {
            let r = try DNNProvBinary.run(["dfquery", "--format", "csv"] + args)
            XCTAssertEqual(r.status, 0, r.stderr)
            // A whole REAL reads 2.0 from the file and 2 through JSON, as with `dnnprov query`.
            XCTAssertEqual(r.stdout.replacingOccurrences(of: ",2.0,", with: ",2,"), "optimizer_name,epoch,loss\nadam,2,0.5\n", args.joined(separator: " "))
            XCTAssertEqual(r.stderr, "")
        }
        let sqlOnly = try DNNProvBinary.run(["dfquery", "clirun", text, "--sql-only", "--db", db])
        XCTAssertEqual(sqlOnly.status, 0, sqlOnly.stderr)
        XCTAssertEqual(sqlOnly.stdout, """
            SELECT ds_itrainingmodel.optimizer_name, ds_otrainingmodel.epoch, ds_otrainingmodel.loss
            FROM ds_itrainingmodel
            JOIN ds_otrainingmodel ON ds_otrainingmodel.trainingmodel_task_id = ds_itrainingmodel.trainingmodel_task_id
            WHERE ds_otrainingmodel.loss < 0.8
            ORDER BY ds_itrainingmodel.id, ds_otrainingmodel.id

            """)
        let remoteSQL = try DNNProvBinary.run(["dfquery", "clirun", text, "--sql-only", "--url", server.url])
        XCTAssertEqual(remoteSQL.stdout, sqlOnly.stdout)
        let table = try DNNProvBinary.run(["dfquery", "clirun", text, "--url", server.url])
        XCTAssertTrue(table.stdout.contains("(1 row)"), table.stdout)
        let bad = try DNNProvBinary.run(["dfquery", "clirun", "source(itrainingmodel)\nselection(loss >)", "--db", db])
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(bad.stderr, "error: line 2, selection(...): expected a value or an attribute, found the end\n")
        let badRemote = try DNNProvBinary.run(["dfquery", "clirun", "source(itrainingmodel)\nselection(loss >)", "--url", server.url])
        XCTAssertEqual(badRemote.stderr, "error: line 2, selection(...): expected a value or an attribute, found the end (HTTP 400)\n")
    }
}

import DNNProvClient
import DNNProvModel
import Foundation
import XCTest

/// The command line as a user runs it: `spool status|replay`, `runs`, and its messages for a URL
/// without a scheme and a port in use. Real processes (`dnnprov serve`, `dnnprov ...`).
final class CLITests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("dnnprov-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    private var spoolDir: String { scratch.appendingPathComponent("spool").path }
    private func database(_ name: String = "prov.sqlite") -> String { scratch.appendingPathComponent(name).path }

    static let specJSON: [String: Any] = [
        "tag": "clirun",
        "transformations": [["tag": "trainingmodel", "sets": [
            ["tag": "itrainingmodel", "type": "INPUT", "attributes": [
                ["name": "OPTIMIZER_NAME", "type": "TEXT"], ["name": "LEARNING_RATE", "type": "NUMERIC"]]],
            ["tag": "otrainingmodel", "type": "OUTPUT", "attributes": [
                ["name": "loss", "type": "NUMERIC"], ["name": "accuracy", "type": "NUMERIC"], ["name": "epoch", "type": "NUMERIC"]]],
        ]]],
    ]

    private func query(_ url: String, _ sql: String) throws -> [[Any]] {
        let r = try HTTP.post(url + "/api/v1/query", json: ["sql": sql, "dataflow": "clirun"])
        XCTAssertEqual(r.status, 200, String(decoding: r.body, as: UTF8.self))
        let object = try JSONSerialization.jsonObject(with: r.body) as? [String: Any]
        return object?["rows"] as? [[Any]] ?? []
    }

    private func count(_ url: String, _ sql: String) throws -> Int {
        (try query(url, sql).first?.first as? NSNumber)?.intValue ?? -1
    }

    private func jsonlFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: spoolDir)) ?? []).filter { $0.hasSuffix(".jsonl") }
    }

    // MARK: spool

    /// A Swift client pointed at a dead port spools everything; `spool replay --to` a live server
    /// stores each event once and removes the file; a replay of the same file again (as after an
    /// interruption) stores nothing new.
    func testSwiftSpoolReplaysToAnotherServerExactlyOnce() throws {
        let dead = "http://127.0.0.1:\(try ServerProcess.freePort())"
        do {
            let client = ProvenanceClient(configuration: ClientConfiguration(
                url: dead, spoolDirectory: spoolDir, adoptOrphanSpools: false))
            client.register(try JSONDecoder().decode(DataflowSpec.self, from: JSONSerialization.data(withJSONObject: Self.specJSON)))
            let task = client.execution(dataflow: "clirun", name: "run-1").task("trainingmodel")
            task.add(set: "itrainingmodel", row: [.text("adam"), .number(0.001)])
            task.begin()
            for epoch in 1...3 {
                task.save(set: "otrainingmodel", row: [.number(1.0 / Double(epoch)), .number(0.5 + Double(epoch) / 10), .number(Double(epoch))])
            }
            task.end()
            // Nothing can be delivered: what is not spooled yet is spooled at close.
            client.close(timeout: .seconds(2))
        }
        let files = jsonlFiles()
        XCTAssertEqual(files.count, 1, "one spool file")
        let saved = try Data(contentsOf: URL(fileURLWithPath: spoolDir + "/" + files[0]))

        let status = try DNNProvBinary.run(["spool", "status", "--dir", spoolDir])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains(dead), "status names the URL the data was for:\n\(status.stdout)")
        XCTAssertTrue(status.stdout.contains("swift"), status.stdout)
        XCTAssertTrue(status.stdout.contains(" 5 "), "5 events:\n\(status.stdout)")

        let server = try ServerProcess(database: database())
        defer { server.stop() }
        let replay = try DNNProvBinary.run(["spool", "replay", "--to", server.url, "--dir", spoolDir])
        XCTAssertEqual(replay.status, 0, replay.stderr)
        XCTAssertTrue(replay.stdout.contains("5 event(s) stored, 0 already stored"), replay.stdout)
        XCTAssertEqual(jsonlFiles(), [], "the file is removed once acknowledged")
        XCTAssertEqual(try count(server.url, "select count(*) from ds_otrainingmodel"), 3)
        XCTAssertEqual(try count(server.url, "select count(*) from ds_itrainingmodel"), 1)
        XCTAssertEqual(try count(server.url, "select count(*) from task"), 1)

        // The same file again (a replay interrupted before it removed the file): nothing new.
        try saved.write(to: URL(fileURLWithPath: spoolDir + "/" + files[0]))
        let again = try DNNProvBinary.run(["spool", "replay", "--to", server.url, "--dir", spoolDir])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("0 event(s) stored, 5 already stored"), again.stdout)
        XCTAssertEqual(try count(server.url, "select count(*) from ds_otrainingmodel"), 3)
        XCTAssertEqual(try count(server.url, "select count(*) from task"), 1)

        let nothing = try DNNProvBinary.run(["spool", "replay", "--to", server.url, "--dir", spoolDir])
        XCTAssertEqual(nothing.status, 0, nothing.stderr)
        XCTAssertTrue(nothing.stdout.contains("nothing to replay"), nothing.stdout)
    }

    /// A spool file in the Python client's format (`<sha1(url)[:12]>-<client id>.jsonl`, lines
    /// `{"kind": "dataflow", "spec": ...}` and `{"kind": "batch", "events": [...]}`, rows that name
    /// their attributes in `_names`) replays too.
    func testPythonSpoolReplays() throws {
        let dead = "http://127.0.0.1:\(try ServerProcess.freePort())"
        try FileManager.default.createDirectory(atPath: spoolDir, withIntermediateDirectories: true)
        let hash = String(sha1Hex(dead).prefix(12))
        func event(_ key: Int, status: String, sets: [[String: Any]]) -> [String: Any] {
            ["dataflow": "clirun", "execution": "py-run", "transformation": "trainingmodel", "task": "1",
             "status": status, "key": "pyclient-\(key)", "sets": sets]
        }
        let lines: [[String: Any]] = [
            ["kind": "dataflow", "spec": Self.specJSON],
            ["kind": "batch", "events": [
                event(1, status: "RUNNING", sets: [["tag": "itrainingmodel", "elements": [["sgd", 0.01]]]]),
                event(2, status: "RUNNING", sets: [["tag": "otrainingmodel", "_names": ["epoch", "loss", "accuracy"], "elements": [[1, 0.9, 0.4]]]]),
            ]],
            ["kind": "batch", "events": [
                event(3, status: "RUNNING", sets: [["tag": "otrainingmodel", "elements": [[0.7, 0.6, 2]]]]),
                event(4, status: "FINISHED", sets: []),
            ]],
        ]
        let text = try lines.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }.joined(separator: "\n") + "\n"
        try text.write(toFile: spoolDir + "/\(hash)-0123456789abcdef.jsonl", atomically: true, encoding: .utf8)

        let status = try DNNProvBinary.run(["spool", "status", "--dir", spoolDir], environment: ["DNNPROV_URL": dead])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("python"), status.stdout)
        XCTAssertTrue(status.stdout.contains(dead), "the URL is recognised by its hash:\n\(status.stdout)")

        let server = try ServerProcess(database: database())
        defer { server.stop() }
        let replay = try DNNProvBinary.run(["spool", "replay", "--to", server.url, "--dir", spoolDir])
        XCTAssertEqual(replay.status, 0, replay.stderr)
        XCTAssertTrue(replay.stdout.contains("4 event(s) stored"), replay.stdout)
        XCTAssertEqual(jsonlFiles(), [])
        let rows = try query(server.url, "select epoch, loss, accuracy from ds_otrainingmodel order by id")
        XCTAssertEqual(rows.map { ($0[0] as? NSNumber)?.doubleValue }, [1, 2], "the _names row put each value in its column")
        XCTAssertEqual(rows.map { ($0[1] as? NSNumber)?.doubleValue }, [0.9, 0.7])
        XCTAssertEqual(try query(server.url, "select status from task").first?.first as? String, "FINISHED")
    }

    func testReplayToADeadServerKeepsTheFile() throws {
        try FileManager.default.createDirectory(atPath: spoolDir, withIntermediateDirectories: true)
        let line = try JSONSerialization.data(withJSONObject: ["kind": "dataflow", "spec": Self.specJSON])
        try (String(decoding: line, as: UTF8.self) + "\n").write(toFile: spoolDir + "/abcdef012345-1.jsonl", atomically: true, encoding: .utf8)
        let dead = "http://127.0.0.1:\(try ServerProcess.freePort())"
        let r = try DNNProvBinary.run(["spool", "replay", "--to", dead, "--dir", spoolDir])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("cannot reach the dnnprov server at \(dead)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("stays in the spool"), r.stderr)
        XCTAssertEqual(jsonlFiles().count, 1)

        let unknown = try DNNProvBinary.run(["spool", "replay", "--dir", spoolDir])
        XCTAssertTrue(unknown.stderr.contains("pass --to URL"), unknown.stderr)

        // A server that wants a token: the data is the user's, kept for a replay with one.
        let server = try ServerProcess(database: database(), arguments: ["--require-tokens"])
        defer { server.stop() }
        let refused = try DNNProvBinary.run(["spool", "replay", "--to", server.url, "--dir", spoolDir], environment: ["DNNPROV_TOKEN": ""])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("refused the data (HTTP 401"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("set DNNPROV_TOKEN to a writer token"), refused.stderr)
        XCTAssertEqual(jsonlFiles().count, 1)
    }

    // MARK: runs

    func testRunsShowsHyperparametersAndLastMetrics() throws {
        let db = database()
        let server = try ServerProcess(database: db)
        defer { server.stop() }
        XCTAssertTrue((200..<300).contains(try HTTP.post(server.url + "/api/v1/dataflows", json: Self.specJSON).status))
        func event(_ run: String, _ status: String, _ sets: [[String: Any]]) -> [String: Any] {
            ["dataflow": "clirun", "execution": run, "transformation": "trainingmodel", "task": "1", "status": status, "sets": sets]
        }
        let events: [[String: Any]] = [
            event("run-a", "RUNNING", [["tag": "itrainingmodel", "elements": [["adam", 0.001]]]]),
            event("run-a", "RUNNING", [["tag": "otrainingmodel", "elements": [[0.9, 0.41, 1], [0.5, 0.77, 2]]]]),
            event("run-a", "FINISHED", []),
            event("run-b", "RUNNING", [["tag": "itrainingmodel", "elements": [["rmsprop", 0.01]]]]),
            event("run-b", "RUNNING", [["tag": "otrainingmodel", "elements": [[1.5, 0.2, 1]]]]),
        ]
        XCTAssertEqual(try HTTP.post(server.url + "/api/v1/batch", json: ["events": events]).status, 200)

        for source in [["--url", server.url], ["--db", db]] {
            let r = try DNNProvBinary.run(["runs", "clirun", "--format", "csv"] + source)
            XCTAssertEqual(r.status, 0, r.stderr)
            let lines = r.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.first?.lowercased(), "execution,status,start,duration,optimizer_name,learning_rate,loss,accuracy,epoch", r.stdout)
            XCTAssertEqual(lines.count, 3, r.stdout)
            XCTAssertTrue(lines[1].hasPrefix("run-a,FINISHED,"), lines[1])
            XCTAssertTrue(lines[1].hasSuffix(",adam,0.001,0.5,0.77,2"), lines[1])
            XCTAssertTrue(lines[2].hasPrefix("run-b,RUNNING,"), lines[2])
            XCTAssertTrue(lines[2].hasSuffix(",rmsprop,0.01,1.5,0.2,1"), lines[2])
            XCTAssertEqual(r.stderr, "", "only what was asked")
        }
        let table = try DNNProvBinary.run(["runs", "clirun", "--url", server.url])
        XCTAssertTrue(table.stdout.lowercased().contains("optimizer_name"), table.stdout)
        let missing = try DNNProvBinary.run(["runs", "nosuch", "--db", db])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("nosuch"), missing.stderr)
    }

    // MARK: messages

    func testURLWithoutSchemeIsExplained() throws {
        let r = try DNNProvBinary.run(["dataflows"], environment: ["DNNPROV_URL": "localhost:22450"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "error: DNNPROV_URL is 'localhost:22450': a server URL starts with http:// or https:// (e.g. http://localhost:22450)\n")
        XCTAssertFalse(r.stderr.contains("unsupportedScheme"))

        let option = try DNNProvBinary.run(["query", "--url", "localhost:22450", "select 1"])
        XCTAssertNotEqual(option.status, 0)
        XCTAssertTrue(option.stderr.contains("--url is 'localhost:22450': a server URL starts with http:// or https://"), option.stderr)

        let to = try DNNProvBinary.run(["spool", "replay", "--to", "localhost:22450", "--dir", spoolDir])
        XCTAssertNotEqual(to.status, 0)
        XCTAssertTrue(to.stderr.contains("--to is 'localhost:22450'"), to.stderr)
    }

    func testBusyPortNamesTheAddress() throws {
        let server = try ServerProcess(database: database())
        defer { server.stop() }
        let r = try DNNProvBinary.run(["serve", "--port", String(server.port), "--db", database("other.sqlite"), "--log-level", "error"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("error: 127.0.0.1:\(server.port) is already in use"), r.stderr)
        XCTAssertFalse(r.stderr.contains("errno"), r.stderr)
        let errorLine = r.stderr.split(separator: "\n").first { $0.hasPrefix("error:") }.map(String.init) ?? ""
        XCTAssertEqual(errorLine.filter { $0 == "(" }.count, errorLine.filter { $0 == ")" }.count, errorLine)
    }

    // MARK: ingest log

    func testIngestLogLine() throws {
        let log = scratch.appendingPathComponent("server.log").path
        let server = try ServerProcess(database: database(), arguments: ["--log-level", "info", "--ingest-log-seconds", "0.3"], stderrFile: log)
        defer { server.stop() }
        XCTAssertTrue((200..<300).contains(try HTTP.post(server.url + "/api/v1/dataflows", json: Self.specJSON).status))
        let events: [[String: Any]] = [["dataflow": "clirun", "execution": "r", "transformation": "trainingmodel", "task": "1",
                                        "status": "RUNNING", "key": "k1", "sets": [["tag": "otrainingmodel", "elements": [[1, 0.5, 1], [0.5, 0.6, 2]]]]]]
        XCTAssertEqual(try HTTP.post(server.url + "/api/v1/batch", json: ["events": events]).status, 200)
        var text = ""
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if text.contains("ingest:") { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertTrue(text.contains("ingest: 1 event(s) and 2 row(s) stored"), text)
        XCTAssertTrue(text.contains("dataflows: clirun"), text)
    }
}

/// SHA-1, as the Python client names spool files (`hashlib.sha1(url).hexdigest()[:12]`).
private func sha1Hex(_ s: String) -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", "import hashlib,sys; print(hashlib.sha1(sys.argv[1].encode()).hexdigest())", s]
    let out = Pipe()
    p.standardOutput = out
    try? p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

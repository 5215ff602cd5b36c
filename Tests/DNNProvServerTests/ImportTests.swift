import DNNProvPostgres
import DNNProvClient
import DNNProvModel
import DNNProvStore
import Foundation
import XCTest
import DNNProvTestSupport

/// `dnnprov import mlflow|tensorboard|csv` (docs/import.md): the TFRecord and protobuf reader on
/// a file written here byte by byte and on one written by tensorboardX, the CSVLogger reader, the
/// mapping's names, and the command end to end on a database file (imported twice, stored once).
/// The MLflow importer is tested against a real `mlflow server` in clients/python/tests/test_import.py.
final class ImportTests: XCTestCase {
    // MARK: protobuf writing, by hand (only what the tests need)

    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v
        var out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        out.append(UInt8(v))
        return out
    }
    static func key(_ field: UInt64, _ wire: UInt64) -> [UInt8] { varint(field << 3 | wire) }
    static func lengthDelimited(_ field: UInt64, _ bytes: [UInt8]) -> [UInt8] { key(field, 2) + varint(UInt64(bytes.count)) + bytes }
    static func fixed32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }
    static func fixed64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * $0)) & 0xff) } }

    /// An `Event` with wall time, step and summary values.
    static func event(wallTime: Double, step: Int64, values: [[UInt8]]) -> [UInt8] {
        key(1, 1) + fixed64(wallTime.bitPattern) + key(2, 0) + varint(UInt64(bitPattern: step))
            + lengthDelimited(5, values.flatMap { lengthDelimited(1, $0) })
    }
    static func simpleValue(_ tag: String, _ v: Float) -> [UInt8] {
        lengthDelimited(1, Array(tag.utf8)) + key(2, 5) + fixed32(v.bitPattern)
    }
    static func tensorValue(_ tag: String, tensor: [UInt8], plugin: String?) -> [UInt8] {
        var out = lengthDelimited(1, Array(tag.utf8)) + lengthDelimited(8, tensor)
        if let plugin { out += lengthDelimited(9, lengthDelimited(1, lengthDelimited(1, Array(plugin.utf8)))) }
        return out
    }

    // MARK: TFRecord and Event

    func testCRC32CKnownAnswers() {
        // The CRC-32C check value (RFC 3720 B.4 and every implementation's test vector).
        XCTAssertEqual(TFRecordReader.crc32c(Array("123456789".utf8)[...]), 0xE306_9283)
        XCTAssertEqual(TFRecordReader.crc32c([UInt8](repeating: 0, count: 32)[...]), 0x8A91_36AA)
        // A record of an empty payload: length 0, its masked CRC, no data, the masked CRC of nothing
        // (the values of tensorboardX's record_writer.masked_crc32c).
        XCTAssertEqual(TFRecordReader.frame([]), [0, 0, 0, 0, 0, 0, 0, 0, 41, 3, 152, 7, 0xd8, 0xea, 0x82, 0xa2])
        XCTAssertEqual(TFRecordReader.maskedCRC([][...]), 0xa282_ead8)
    }

    func testHandWrittenEventFileScalarsTensorsAndBadRecords() {
        let version = Self.key(1, 1) + Self.fixed64(Double(1_700_000_000).bitPattern) + Self.lengthDelimited(3, Array("brain.Event:2".utf8))
        let e1 = Self.event(wallTime: 1_700_000_001, step: 1, values: [
            Self.simpleValue("loss", 0.5),
            // A scalar tensor, float_val packed, named by the scalars plugin.
            Self.tensorValue("acc", tensor: Self.key(1, 0) + Self.varint(1) + Self.lengthDelimited(5, Self.fixed32(Float(0.75).bitPattern)), plugin: "scalars"),
            // A text tensor: not a scalar.
            Self.tensorValue("note", tensor: Self.key(1, 0) + Self.varint(7) + Self.lengthDelimited(8, Array("hi".utf8)), plugin: "text"),
        ])
        let e2 = Self.event(wallTime: 1_700_000_002, step: 2, values: [
            Self.simpleValue("loss", 0.25),
            // The plugin was named with the tag's first value only; double_val unpacked.
            Self.tensorValue("acc", tensor: Self.key(1, 0) + Self.varint(2) + Self.key(6, 1) + Self.fixed64(Double(0.875).bitPattern), plugin: nil),
            // tensor_content of a DT_DOUBLE; and an int64_val.
            Self.tensorValue("lr", tensor: Self.key(1, 0) + Self.varint(2) + Self.lengthDelimited(4, Self.fixed64(Double(0.001).bitPattern)), plugin: nil),
            Self.tensorValue("epoch", tensor: Self.key(1, 0) + Self.varint(9) + Self.key(10, 0) + Self.varint(3), plugin: "scalars"),
            // A vector tensor: not a scalar.
            Self.tensorValue("vec", tensor: Self.key(1, 0) + Self.varint(1) + Self.lengthDelimited(5, Self.fixed32(1) + Self.fixed32(2)), plugin: "scalars"),
        ])
        var bad = TFRecordReader.frame(Self.event(wallTime: 1_700_000_003, step: 3, values: [Self.simpleValue("loss", 9)]))
        bad[14] ^= 0xff  // a data byte: its CRC no longer matches
        let e4 = Self.event(wallTime: 1_700_000_004, step: 4, values: [Self.simpleValue("loss", 0.125)])
        var file = TFRecordReader.frame(version) + TFRecordReader.frame(e1) + TFRecordReader.frame(e2) + bad + TFRecordReader.frame(e4)
        file += TFRecordReader.frame(e4).prefix(10)  // a record cut short (a writer still writing)

        let c = TensorBoardEvents.decode(file, name: "events.out.tfevents.test")
        let got = c.scalars.map { "\($0.step) \($0.tag) \($0.value) \($0.wallTime)" }
        XCTAssertEqual(got, [
            "1 loss 0.5 1700000001.0", "1 acc 0.75 1700000001.0",
            "2 loss 0.25 1700000002.0", "2 acc 0.875 1700000002.0", "2 lr 0.001 1700000002.0", "2 epoch 3.0 1700000002.0",
            "4 loss 0.125 1700000004.0",
        ])
        XCTAssertEqual(c.firstWallTime, 1_700_000_000)
        XCTAssertEqual(c.lastWallTime, 1_700_000_004)
        XCTAssertEqual(c.warnings.count, 2, "\(c.warnings)")
        XCTAssertTrue(c.warnings[0].contains("events.out.tfevents.test: record 3") && c.warnings[0].contains("bad data checksum"), c.warnings[0])
        XCTAssertTrue(c.warnings[1].contains("record 5") && c.warnings[1].contains("truncated"), c.warnings[1])

        // A bad length checksum loses the framing: the rest of the file is ignored, with a warning.
        var lost = TFRecordReader.frame(e1) + TFRecordReader.frame(e4)
        lost[TFRecordReader.frame(e1).count + 8] ^= 1
        let l = TensorBoardEvents.decode(lost, name: "f")
        XCTAssertEqual(l.scalars.map(\.step), [1, 1])
        XCTAssertTrue(l.warnings.first?.contains("bad length checksum") ?? false, "\(l.warnings)")
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tensorboard")

    func testTensorBoardXFixture() throws {
        let (runs, warnings) = try TensorBoardEvents.runs([Self.fixtures.path])
        XCTAssertEqual(warnings, [])
        XCTAssertEqual(runs.count, 1)
        let run = try XCTUnwrap(runs.first)
        XCTAssertEqual(run.execution, "run1")
        XCTAssertEqual(run.rows.map(\.step), [1, 2, 3])
        for r in run.rows {
            let s = Double(r.step)
            XCTAssertEqual(r.values["loss"]!, 1 / s, accuracy: 1e-6)
            XCTAssertEqual(r.values["accuracy"]!, 0.5 + 0.125 * s, accuracy: 1e-6)
            XCTAssertEqual(r.values["val/loss"]!, 2 / s, accuracy: 1e-6)
            XCTAssertEqual(Set(r.values.keys), ["loss", "accuracy", "val/loss"])
            XCTAssertEqual(r.time, 1_700_000_000 + s)
        }
        // The file given directly is the same run.
        let file = Self.fixtures.appendingPathComponent("run1/events.out.tfevents.1700000001.fixture").path
        XCTAssertEqual(try TensorBoardEvents.runs([file]).runs.first?.rows, run.rows)
    }

    // MARK: CSVLogger

    func testCSVLoggerFile() throws {
        let text = "epoch,accuracy,loss,lr,val_accuracy,val_loss\r\n0,0.5,1.25,0.001,0.55,1.0\r\n1,nan,0.75,\"0.0005\",0.6,oops\r\n\r\n"
        let f = try CSVLoggerFile(text: text, path: "training.log")
        XCTAssertEqual(f.columns, ["accuracy", "loss", "lr", "val_accuracy", "val_loss"])
        XCTAssertEqual(f.rows.map(\.step), [1, 2])  // from 1, as the Keras callback numbers epochs
        XCTAssertEqual(f.rows[0].values, ["accuracy": 0.5, "loss": 1.25, "lr": 0.001, "val_accuracy": 0.55, "val_loss": 1.0])
        XCTAssertTrue(f.rows[1].values["accuracy"]!.isNaN)
        XCTAssertEqual(f.rows[1].values["lr"], 0.0005)
        XCTAssertNil(f.rows[1].values["val_loss"])
        XCTAssertEqual(f.warnings.count, 1)
        XCTAssertTrue(f.warnings[0].contains("training.log: line 3: val_loss 'oops'"), f.warnings[0])
        // Another separator; and what is refused, naming the file and the line.
        XCTAssertEqual(try CSVLoggerFile(text: "epoch;loss\n0;2.5\n", path: "x").rows.first?.values, ["loss": 2.5])
        XCTAssertThrowsError(try CSVLoggerFile(text: "step,loss\n0,1\n", path: "a.csv")) { e in
            XCTAssertTrue("\(e)".contains("a.csv: line 1: no 'epoch' column"), "\(e)")
        }
        XCTAssertThrowsError(try CSVLoggerFile(text: "epoch,loss\n0,1\n1\n", path: "b.csv")) { e in
            XCTAssertTrue("\(e)".contains("b.csv: line 3: 1 fields, the header has 2"), "\(e)")
        }
    }

    // MARK: mapping

    func testAttributeNamesAndSpec() throws {
        XCTAssertEqual(ImportMapping.attributeName("Batch Size"), "batch_size")
        XCTAssertEqual(ImportMapping.attributeName("val/loss"), "val_loss")
        XCTAssertEqual(ImportMapping.attributeName("top-5.acc"), "top-5.acc")
        XCTAssertEqual(ImportMapping.attributeName("1cycle"), "_1cycle")
        XCTAssertEqual(ImportMapping.attributeName("id"), "id_")
        XCTAssertEqual(ImportMapping.attributeName("trainingmodel_task_id"), "trainingmodel_task_id_")
        XCTAssertEqual(ImportMapping.attributeName("sqlite_x"), "_sqlite_x")
        XCTAssertEqual(ImportMapping.timestamp(1_700_000_001.5), "2023-11-14 22:13:21.500")
        let run = ImportedRun(kind: .mlflow, sourceID: "abc", execution: "mlflow-abc", location: "mlflow:http://h#abc",
                              startTime: 10, endTime: 20, status: .failed,
                              params: [("Learning Rate", "0.1"), ("optimizer", "adam")],
                              rows: [.init(step: 0, time: 11, values: ["loss": 1, "Loss": 2, "step": 5, "timestamp": 3])])
        let m = ImportMapping(dataflow: "Flow", runs: [run])
        XCTAssertEqual(m.paramAttributes, ["Learning Rate": "learning_rate", "optimizer": "optimizer"])
        // Case-only differences are one attribute; the index and TIMESTAMP are kept for themselves.
        XCTAssertEqual(m.metricAttributes, ["loss": "loss", "Loss": "loss", "step": "step_value", "timestamp": "timestamp_value"])
        XCTAssertNoThrow(try m.spec.normalized())
        let sets = m.spec.transformations[0].sets
        XCTAssertEqual(sets.map(\.tag), ["itrainingmodel", "otrainingmodel", "iimport"])
        XCTAssertEqual(sets[0].attributes, [AttributeSpec(name: "learning_rate", type: .numeric), AttributeSpec(name: "optimizer", type: .text)])
        let events = m.events(for: run, importedAt: "then")
        XCTAssertEqual(events.map { $0.key ?? "" }, ["import:mlflow:abc:begin", "import:mlflow:abc:step:0", "import:mlflow:abc:end:0"])
        XCTAssertEqual(events.last?.status, .failed)
        XCTAssertEqual(events.first?.executionInfo?.script, "mlflow:http://h#abc")
        // A parameter is NUMERIC when each value is a number or nothing (None), TEXT otherwise.
        let other = ImportedRun(kind: .mlflow, sourceID: "def", execution: "mlflow-def", location: "x",
                                params: [("Learning Rate", "None"), ("optimizer", "3")])
        let both = ImportMapping(dataflow: "flow", runs: [run, other]).spec.transformations[0].sets[0].attributes
        XCTAssertEqual(both, [AttributeSpec(name: "learning_rate", type: .numeric), AttributeSpec(name: "optimizer", type: .text)])
    }

    // MARK: the command, end to end

    func testImportCommandsTwiceStoreOnce() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("prov.sqlite").path
        let csv = dir.appendingPathComponent("fit-1.csv")
        try "epoch,accuracy,loss,val_accuracy,val_loss,learning_rate\n0,0.5,1.5,0.45,1.6,0.01\n1,0.75,0.5,0.7,0.6,0.005\n"
            .write(to: csv, atomically: true, encoding: .utf8)
        let runsDir = dir.appendingPathComponent("tb")
        for name in ["a", "b/c"] {
            let d = runsDir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("run1/events.out.tfevents.1700000001.fixture"),
                                             to: d.appendingPathComponent("events.out.tfevents.1700000001.fixture"))
        }
        func summary(_ args: [String]) throws -> [String: Any] {
            let r = try DNNProvBinary.run(args + ["--dataflow", "old", "--db", db])
            XCTAssertEqual(r.status, 0, r.stderr)
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        }
        for round in 0..<2 {
            let c = try summary(["import", "csv", csv.path])
            XCTAssertEqual(c["runs"] as? Int, 1)
            XCTAssertEqual(c["rows"] as? Int, round == 0 ? 3 : 0)  // two epochs and the iImport row
            XCTAssertEqual(c["duplicates"] as? Int, round == 0 ? 0 : 4)
            let t = try summary(["import", "tensorboard", runsDir.path])
            XCTAssertEqual(t["executions"] as? [String], ["a", "b/c"])
            XCTAssertEqual(t["rows"] as? Int, round == 0 ? 8 : 0)
            XCTAssertEqual(t["duplicates"] as? Int, round == 0 ? 0 : 10)
        }
        let store = try ProvStore.open(db, readOnly: true)
        defer { store.close() }
        let runs = try await store.query(
            "select e.tag, t.status, count(o.id), max(o.accuracy), min(o.loss), max(o.epoch), max(o.step) from ds_otrainingmodel o join task t on t.id = o.trainingmodel_task_id join dataflow_execution e on e.id = t.df_exec group by 1, 2 order by 1",
            options: QueryOptions(dataflow: "old"))
        XCTAssertEqual(runs.rows, [
            [.text("a"), .text("FINISHED"), .integer(3), .real(0.875), .real(Double(Float(1.0 / 3))), .null, .real(3)],
            [.text("b/c"), .text("FINISHED"), .integer(3), .real(0.875), .real(Double(Float(1.0 / 3))), .null, .real(3)],
            [.text("fit-1.csv"), .text("FINISHED"), .integer(2), .real(0.75), .real(0.5), .real(2), .null],
        ])
        let origin = try await store.query(
            "select source, source_id, location from ds_iimport order by id", options: QueryOptions(dataflow: "old"))
        XCTAssertEqual(origin.rows.map { $0[0] }, [.text("csv"), .text("tensorboard"), .text("tensorboard")])
        XCTAssertEqual(origin.rows.map { $0[1] }, [.text("fit-1.csv"), .text("a"), .text("b/c")])

        // Errors name what is wrong.
        let bad = dir.appendingPathComponent("bad.csv")
        try "step,loss\n0,1\n".write(to: bad, atomically: true, encoding: .utf8)
        let r = try DNNProvBinary.run(["import", "csv", bad.path, "--dataflow", "old", "--db", db])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("\(bad.path): line 1: no 'epoch' column"), r.stderr)
        let dead = "http://127.0.0.1:\(try ServerProcess.freePort())"
        let m = try DNNProvBinary.run(["import", "mlflow", "--tracking-uri", dead, "--dataflow", "old", "--db", db])
        XCTAssertEqual(m.status, 1)
        XCTAssertTrue(m.stderr.contains("cannot reach the MLflow tracking server at \(dead)"), m.stderr)
        let none = try DNNProvBinary.run(["import", "tensorboard", dir.appendingPathComponent("nothing").path, "--dataflow", "old", "--db", db])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("no such file or directory"), none.stderr)
        // `dnnprov import FILE` is still the PROV-JSON import.
        let help = try DNNProvBinary.run(["import", "--help"])
        XCTAssertTrue(help.stdout.contains("prov (default)") && help.stdout.contains("mlflow") && help.stdout.contains("tensorboard"), help.stdout)
    }
}

extension ImportTests {
    /// A CSVLogger file that grew (training went on, `append=True`) adds its new epochs only; one
    /// rewritten by another training under the same name is refused with a message saying so.
    func testGrownCSVFileAddsItsNewRowsOnly() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("prov.sqlite").path
        let csv = dir.appendingPathComponent("log.csv")
        func run() throws -> DNNProvBinary.Result { try DNNProvBinary.run(["import", "csv", csv.path, "--dataflow", "grow", "--db", db]) }
        try "epoch,loss\n0,1.5\n1,1.0\n".write(to: csv, atomically: true, encoding: .utf8)
        XCTAssertEqual(try run().status, 0)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: csv.path)
        try "epoch,loss\n0,1.5\n1,1.0\n2,0.5\n".write(to: csv, atomically: true, encoding: .utf8)
        let grown = try run()
        XCTAssertEqual(grown.status, 0, grown.stderr)
        let s = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(grown.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(s["rows"] as? Int, 1)
        XCTAssertEqual(s["events"] as? Int, 2)  // the new epoch and the new end
        XCTAssertEqual(s["duplicates"] as? Int, 3)  // the first event and the two epochs stored before
        try "epoch,loss\n0,9.5\n".write(to: csv, atomically: true, encoding: .utf8)
        let other = try run()
        XCTAssertEqual(other.status, 1)
        XCTAssertTrue(other.stderr.contains("imported into this dataflow before with other values"), other.stderr)
    }

    /// Imports extend the predefined dataflow of captured runs (the Keras callback's) without a
    /// type conflict: the runs sit beside captured ones, in the same columns.
    func testImportIntoThePredefinedDataflow() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("prov.sqlite").path
        do {
            let store = try ProvStore.open(db)
            _ = try await store.register(DataflowBuilder.predefined("keras", validation: true).spec)
            store.close()
        }
        let csv = dir.appendingPathComponent("fit.csv")
        try "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss\n0,0.5,0.01,1.5,0.4,1.7\n".write(to: csv, atomically: true, encoding: .utf8)
        for args in [["csv", csv.path], ["tensorboard", Self.fixtures.path]] {
            let r = try DNNProvBinary.run(["import"] + args + ["--dataflow", "keras", "--db", db])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let store = try ProvStore.open(db, readOnly: true)
        defer { store.close() }
        let rows = try await store.query("select epoch, step, loss, val_loss, learning_rate from ds_otrainingmodel order by id",
                                         options: QueryOptions(dataflow: "keras")).rows
        XCTAssertEqual(rows.count, 4)
        XCTAssertEqual(rows[0], [.real(1), .null, .real(1.5), .real(1.7), .real(0.01)])
        let columns = try await store.query("select * from ds_otrainingmodel", options: QueryOptions(dataflow: "keras")).columns.map(\.name)
        // TensorBoard's val/loss is the callback's val_loss; learning_rate and step are added.
        XCTAssertEqual(columns, ["id", "trainingmodel_task_id", "adaptation_task_id", "testingmodel_task_id", "timestamp", "elapsed_time",
                                 "loss", "accuracy", "epoch", "val_loss", "val_accuracy", "learning_rate", "step"])
    }
}

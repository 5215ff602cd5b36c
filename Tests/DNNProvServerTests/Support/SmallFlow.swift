/// A small dataflow for tests that need one: a training that outputs (loss, epoch).
enum SmallFlow {
    static let spec: [String: Any] = [
        "tag": "mnist",
        "transformations": [["tag": "trainingmodel", "sets": [
            ["tag": "itrainingmodel", "type": "INPUT", "attributes": AlexNet.attrs([("OPTIMIZER_NAME", "TEXT")])],
            ["tag": "otrainingmodel", "type": "OUTPUT", "attributes": AlexNet.attrs([("LOSS", "NUMERIC"), ("EPOCH", "NUMERIC")])],
        ]]],
    ]

    static func event(key: String?, execution: String = "run-1", task: String = "1", status: String = "RUNNING",
                      set: String = "otrainingmodel", rows: [[Any]]) -> [String: Any] {
        var e: [String: Any] = ["dataflow": "mnist", "execution": execution, "transformation": "trainingmodel", "task": task,
                                "status": status, "sets": [["tag": set, "elements": rows]]]
        if let key { e["key"] = key }
        return e
    }

    /// Batch `batch` of a client that sends `size` keyed epoch rows at a time to run
    /// `run-<client>`: its keys (unique across clients and batches) and its events.
    static func keyedBatch(client: Int, batch: Int, size: Int = 20) -> (keys: [String], events: [[String: Any]]) {
        let keys = (0..<size).map { "c\(client)-b\(batch)-\($0)" }
        let events = keys.enumerated().map { i, k in event(key: k, execution: "run-\(client)", rows: [[Double(i), batch * size + i]]) }
        return (keys, events)
    }
}

import DNNProvModel
import Foundation

/// The same small flow under any tag: as JSON for the HTTP API and as model values for the store.
extension SmallFlow {
    static func specJSON(_ tag: String) -> [String: Any] {
        var s = spec
        s["tag"] = tag
        return s
    }

    static func spec(_ tag: String) throws -> DataflowSpec {
        try JSONDecoder().decode(DataflowSpec.self, from: JSONSerialization.data(withJSONObject: specJSON(tag)))
    }

    /// One epoch row (loss, epoch) of task 1 in `execution`.
    static func eventJSON(_ tag: String, execution: String, epoch: Int) -> [String: Any] {
        var e = event(key: nil, execution: execution, rows: [[1.0 / Double(epoch), Double(epoch)]])
        e["dataflow"] = tag
        return e
    }

    static func batchJSON(_ tag: String, epochs: Int, execution: String = "run-1") -> String {
        let events = (1...max(1, epochs)).map { eventJSON(tag, execution: execution, epoch: $0) }
        let data = try! JSONSerialization.data(withJSONObject: ["events": events])
        return String(decoding: data, as: UTF8.self)
    }

    static func events(_ tag: String, epochs: Int, execution: String = "run-1") -> [TaskEvent] {
        (1...epochs).map { e in
            TaskEvent(dataflow: tag, execution: execution, transformation: "trainingmodel", task: "1",
                      sets: [ElementSet(tag: "otrainingmodel", elements: [[.number(1.0 / Double(e)), .number(Double(e))]])])
        }
    }
}

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
}

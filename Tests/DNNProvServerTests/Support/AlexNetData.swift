import Foundation

/// The AlexNet flow of the seeds, made deterministic: three trainings with different
/// optimizers, 20 epochs each, learning-rate adaptations at epochs 10 and 20, then a test.
/// Every value is a function of (run, epoch), so tests can compute what queries must return.
enum AlexNet {
    static let epochs = 20
    struct Run {
        var optimizer: String
        var learningRate: Double
        var dropout: Double
        var filter: String?
        var bias: Double
    }

    static let runs = [
        Run(optimizer: "adam", learningRate: 0.001, dropout: 0.4, filter: nil, bias: 0.10),
        Run(optimizer: "sgd", learningRate: 0.01, dropout: 0.7, filter: nil, bias: 0.05),
        Run(optimizer: "rmsprop", learningRate: 0.002, dropout: 0.4, filter: "grayscale", bias: -0.05),
    ]

    static func loss(_ r: Int, _ e: Int) -> Double { 2.5 / Double(e) * (1 + Double(r) * 0.1) }
    static func accuracy(_ r: Int, _ e: Int) -> Double { 0.3 + Double(e) * 0.02 + runs[r].bias }
    static func elapsed(_ r: Int, _ e: Int) -> Double { 10 + Double(r) + Double(e) * 0.125 }
    static func newRate(_ r: Int, adaptation k: Int) -> Double { runs[r].learningRate * pow(0.5, Double(k)) }
    static func testAccuracy(_ r: Int) -> Double { accuracy(r, epochs) - 0.05 }

    static let layers: [[Any]] = [
        ["conv2d_1", "Conv2D", "relu", NSNull(), 96, "(3, 3)", "(1, 1)", "same", NSNull(), 960],
        ["max_pooling2d_1", "MaxPooling2D", NSNull(), NSNull(), NSNull(), "(2, 2)", "(2, 2)", "valid", NSNull(), 0],
        ["flatten_1", "Flatten", NSNull(), NSNull(), NSNull(), NSNull(), NSNull(), NSNull(), NSNull(), 0],
        ["dense_1", "Dense", "relu", 256, NSNull(), NSNull(), NSNull(), NSNull(), NSNull(), 393_472],
        ["dropout_1", "Dropout", NSNull(), NSNull(), NSNull(), NSNull(), NSNull(), NSNull(), "DROPOUT", 0],
        ["dense_2", "Dense", "softmax", 10, NSNull(), NSNull(), NSNull(), NSNull(), NSNull(), 2570],
    ]

    static func attrs(_ pairs: [(String, String)]) -> [[String: String]] { pairs.map { ["name": $0.0, "type": $0.1] } }

    /// The Keras-Prov dataflow with the user-defined Filters transformation of seed 003.
    static let spec: [String: Any] = [
        "tag": "alexnet",
        "transformations": [
            ["tag": "Filters", "sets": [
                ["tag": "oFilters", "type": "OUTPUT", "attributes": attrs([("FILTER_NAME", "TEXT")])],
            ]],
            ["tag": "TrainingModel", "sets": [
                ["tag": "oFilters", "type": "INPUT", "dependency": "Filters"],
                ["tag": "iTrainingModel", "type": "INPUT", "attributes": attrs([
                    ("OPTIMIZER_NAME", "TEXT"), ("LEARNING_RATE", "NUMERIC"), ("NUM_EPOCHS", "NUMERIC"),
                    ("NUM_LAYERS", "NUMERIC"), ("BATCH_SIZE", "NUMERIC")])],
                ["tag": "iLayers", "type": "INPUT", "attributes": attrs([
                    ("NAME", "TEXT"), ("TYPE", "TEXT"), ("ACTIVATION", "TEXT"), ("UNITS", "NUMERIC"), ("FILTERS", "NUMERIC"),
                    ("KERNEL_SIZE", "TEXT"), ("STRIDES", "TEXT"), ("PADDING", "TEXT"), ("DROPOUT_RATE", "NUMERIC"), ("PARAMS", "NUMERIC")])],
                ["tag": "oTrainingModel", "type": "OUTPUT", "attributes": attrs([
                    ("TIMESTAMP", "TEXT"), ("ELAPSED_TIME", "NUMERIC"), ("LOSS", "NUMERIC"), ("ACCURACY", "NUMERIC"),
                    ("EPOCH", "NUMERIC"), ("VAL_LOSS", "NUMERIC"), ("VAL_ACCURACY", "NUMERIC")])],
            ]],
            ["tag": "Adaptation", "sets": [
                ["tag": "oTrainingModel", "type": "INPUT", "dependency": "TrainingModel"],
                ["tag": "iAdaptation", "type": "INPUT", "attributes": attrs([
                    ("EPOCHS_DROP", "NUMERIC"), ("DROP", "NUMERIC"), ("INITIAL_LRATE", "NUMERIC")])],
                ["tag": "oAdaptation", "type": "OUTPUT", "attributes": attrs([
                    ("NEW_LRATE", "NUMERIC"), ("TIMESTAMP", "TEXT"), ("EPOCH_ID", "NUMERIC"), ("ADAPTATION_ID", "NUMERIC")])],
            ]],
            ["tag": "TestingModel", "sets": [
                ["tag": "oTrainingModel", "type": "INPUT", "dependency": "TrainingModel"],
                ["tag": "oTestingModel", "type": "OUTPUT", "attributes": attrs([
                    ("ACCURACY", "NUMERIC"), ("LOSS", "NUMERIC"), ("EPOCH", "NUMERIC")])],
            ]],
        ],
    ]

    /// The batches one execution of run `r` sends, in order (as the Keras callback would).
    static func batches(run r: Int) -> [[[String: Any]]] {
        let run = runs[r]
        let exec = "alexnet-run\(r)"
        var seq = 0
        func event(_ t: String, _ id: String, _ status: String = "RUNNING", deps: [(String, String)] = [], sets: [(String, [[Any]])] = []) -> [String: Any] {
            seq += 1
            return [
                "key": "test-\(r)-\(seq)", "dataflow": "alexnet", "execution": exec, "transformation": t, "task": id,
                "status": status, "time": 1_764_000_000 + Double(r * 1000 + seq),
                "dependencies": deps.map { ["transformation": $0.0, "task": $0.1] },
                "sets": sets.map { ["tag": $0.0, "elements": $0.1] },
            ]
        }
        var batches: [[[String: Any]]] = []
        var trainingDeps: [(String, String)] = []
        if let f = run.filter {
            batches.append([event("filters", "4", "FINISHED", sets: [("ofilters", [[f]])])])
            trainingDeps = [("filters", "4")]
        }
        let layers = layers.map { row in row.map { ($0 as? String) == "DROPOUT" ? run.dropout as Any : $0 } }
        batches.append([event("trainingmodel", "1", deps: trainingDeps, sets: [
            ("itrainingmodel", [[run.optimizer, run.learningRate, epochs, layers.count, 32]]),
            ("ilayers", layers),
        ])])
        for e in 1...epochs {
            var batch = [event("trainingmodel", "1", deps: trainingDeps, sets: [("otrainingmodel", [[
                "2026-11-25 09:\(String(format: "%02d", e)):00", elapsed(r, e), loss(r, e), accuracy(r, e), e,
                loss(r, e) * 1.1, accuracy(r, e) - 0.02]])])]
            if e % 10 == 0 {
                let k = e / 10
                var sets: [(String, [[Any]])] = [("oadaptation", [[newRate(r, adaptation: k), "2026-11-25 10:00:00", e, k]])]
                if k == 1 { sets.insert(("iadaptation", [[10, 0.5, run.learningRate]]), at: 0) }
                batch.append(event("adaptation", "2", deps: [("trainingmodel", "1")], sets: sets))
            }
            batches.append(batch)
        }
        batches.append([
            event("trainingmodel", "1", "FINISHED"),
            event("adaptation", "2", "FINISHED", deps: [("trainingmodel", "1")]),
        ])
        batches.append([event("testingmodel", "3", "FINISHED", deps: [("trainingmodel", "1")], sets: [
            ("otestingmodel", [[testAccuracy(r), loss(r, epochs) * 1.2, epochs]]),
        ])])
        return batches
    }
}

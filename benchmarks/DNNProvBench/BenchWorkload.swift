import DNNProvClient
import DNNProvModel

/// The Keras-Prov-like dataflow of the benchmarks: the predefined DL dataflow with validation
/// metrics and three more per-epoch metrics, so that an epoch row holds 10 values, and the
/// seeds' user-defined `Filters` transformation (seed 003, Q7-Q8).
enum BenchWorkload {
    static let dataflow = "alexnet"

    static var spec: DataflowSpec {
        DataflowBuilder.predefined(dataflow, validation: true)
            .transformation("TrainingModel")
            .output("oTrainingModel", [.numeric("LR"), .numeric("TOP5_ACCURACY"), .numeric("VAL_TOP5_ACCURACY")])
            .transformation("Filters")
            .output("oFilters", [.text("FILTER")])
            .transformation("TrainingModel")
            .input("oFilters", from: "Filters")
            .spec
    }

    static let epochValues = 10
    static let hyperparameterValues = 7

    static func hyperparameters(run: Int) -> [Value] {
        let optimizers = ["adam", "sgd", "nadam", "rmsprop"]
        return [.text(optimizers[run % 4]), .number([0.1, 0.01, 0.001, 0.0001][(run / 4) % 4]), .number(100), .number(8),
                .number([32, 64, 128][run % 3]), .number(0.9), .number(0)]
    }

    /// One epoch's 10 values, deterministic in (run, epoch).
    static func epochRow(run: Int, epoch: Int, timestamp: String) -> [Value] {
        let noise = Double((run &* 7919 &+ epoch &* 104_729) % 1000) / 100_000
        let accuracy = min(0.999, 0.3 + 0.6 * (1 - 1 / Double(epoch + 1)) + noise + Double(run % 97) / 10_000)
        let loss = 2.3 / Double(epoch + 1) + noise
        return [.text(timestamp), .number(12.5 + noise * 100), .number(loss), .number(accuracy), .number(Double(epoch)),
                .number(loss * 1.1), .number(accuracy * 0.97), .number(0.001), .number(min(1, accuracy + 0.05)),
                .number(min(1, accuracy + 0.03))]
    }

    static let layers: [[Value]] = [
        [.text("conv2d_1"), .text("Conv2D"), .text("relu"), .null, .number(96), .text("11x11"), .text("4x4"), .text("valid"), .null, .number(34_944)],
        [.text("max_pooling2d_1"), .text("MaxPooling2D"), .null, .null, .null, .text("3x3"), .text("2x2"), .text("valid"), .null, .number(0)],
        [.text("conv2d_2"), .text("Conv2D"), .text("relu"), .null, .number(256), .text("5x5"), .text("1x1"), .text("same"), .null, .number(614_656)],
        [.text("flatten_1"), .text("Flatten"), .null, .null, .null, .null, .null, .null, .null, .number(0)],
        [.text("dense_1"), .text("Dense"), .text("relu"), .number(4096), .null, .null, .null, .null, .null, .number(37_752_832)],
        [.text("dropout_1"), .text("Dropout"), .null, .null, .null, .null, .null, .null, .number(0.4), .number(0)],
        [.text("dense_2"), .text("Dense"), .text("softmax"), .number(17), .null, .null, .null, .null, .null, .number(69_649)],
    ]

    static func dropoutLayer(run: Int) -> [Value] {
        var l = layers[5]
        l[8] = .number([0.4, 0.5, 0.3][run % 3])
        return l
    }

    static let filters = ["none", "gaussian", "median", "sobel", "equalize"]
}

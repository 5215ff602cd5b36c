// A fake training loop instrumented with the dnnprov Swift client.
//
//   dnnprov serve &                       # or DNNPROV_URL=http://host:22000
//   swift run swift-client-example [epochs]
//
// It registers the predefined DL dataflow, trains for N "epochs" (one oTrainingModel row each),
// halves the learning rate once (an Adaptation), tests the model, and flushes.
import DNNProvClient
import Foundation

let epochs = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 20
let dataflow = "swiftexample"

let client = ProvenanceClient()  // DNNPROV_URL, DNNPROV_TOKEN
client.register(DataflowBuilder.predefined(dataflow, validation: true))

let run = client.execution(dataflow: dataflow)
let training = run.task("TrainingModel")
var learningRate = 0.01
training.add(set: "iTrainingModel", values: ["sgd", learningRate, epochs, 4, 64, 0.9, 0.0])
training.add(set: "iLayers", values: ["dense_1", "Dense", "relu", 128, Int?.none, String?.none, String?.none, String?.none, Double?.none, 100_480])
training.add(set: "iLayers", values: ["dropout_1", "Dropout", String?.none, Int?.none, Int?.none, String?.none, String?.none, String?.none, 0.4, 0])
training.add(set: "iLayers", values: ["dense_2", "Dense", "softmax", 10, Int?.none, String?.none, String?.none, String?.none, Double?.none, 1290])
training.begin()

let iso = ISO8601DateFormatter()
var loss = 2.3
var accuracy = 0.1
var adaptation: ProvTask?
for epoch in 1...epochs {
    let start = Date()
    usleep(20_000)  // "training"
    loss *= 0.85
    accuracy += (1 - accuracy) * 0.2
    let elapsed = Date().timeIntervalSince(start)
    // TIMESTAMP, ELAPSED_TIME, LOSS, ACCURACY, EPOCH, VAL_LOSS, VAL_ACCURACY: enqueued, never waits.
    training.save(set: "oTrainingModel", values: [iso.string(from: Date()), elapsed, loss, accuracy, epoch, loss * 1.1, accuracy * 0.97])

    if epoch == epochs / 2 {
        // A learning-rate schedule step: the Adaptation consumes the training's output.
        let adapt = run.task("Adaptation", dependencies: [training])
        adapt.add(set: "iAdaptation", values: [epochs / 2, 0.5, learningRate])
        learningRate *= 0.5
        adapt.save(set: "oAdaptation", values: [learningRate, iso.string(from: Date()), epoch, 1])
        adaptation = adapt
    }
}
training.end()
adaptation?.end()

let test = run.task("TestingModel", dependencies: [training])
test.save(set: "oTestingModel", values: [accuracy * 0.95, loss * 1.2, epochs])
test.end()

let delivered = client.flush(timeout: .seconds(10))
let stats = client.stats
print("execution \(run.name): \(stats.eventsEnqueued) events, \(stats.eventsAcknowledged) acknowledged in \(stats.batchesAcknowledged) batch(es)")
if !delivered {
    print("the server did not answer in time: the rest is in \(client.spoolPath) and will be replayed by the next run")
}
client.close(timeout: .seconds(2))
print("""

Query it (dnnprov query, or POST /api/v1/query with "dataflow": "\(dataflow)"):

  dnnprov query --dataflow \(dataflow) "select trainingmodel_task_id, epoch, loss, accuracy, val_accuracy \
from ds_otrainingmodel o join task t on t.id = o.trainingmodel_task_id \
join dataflow_execution e on e.id = t.df_exec where e.tag = '\(run.name)' order by epoch"
""")

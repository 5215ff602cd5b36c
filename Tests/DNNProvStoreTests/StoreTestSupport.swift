import DNNProvModel
import DNNProvStore
import Foundation
import DNNProvTestSupport

let trainingSpec = DataflowSpec(tag: "mnist", transformations: [
    TransformationSpec(tag: "trainingmodel", sets: [
        SetSpec(tag: "otrainingmodel", role: .output, attributes: [
            AttributeSpec(name: "loss", type: .numeric), AttributeSpec(name: "epoch", type: .numeric)]),
    ]),
])

func epochEvent(_ key: String?, execution: String = "run", epoch: Int, loss: Value? = nil) -> TaskEvent {
    TaskEvent(key: key, dataflow: "mnist", execution: execution, transformation: "trainingmodel", task: "1",
              sets: [ElementSet(tag: "otrainingmodel", elements: [[loss ?? .number(1 / Double(epoch)), .number(Double(epoch))]])])
}

extension QueryValue {
    var int: Int64? { if case .integer(let i) = self { return i }; return nil }
}

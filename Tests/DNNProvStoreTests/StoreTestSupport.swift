import DNNProvModel
import DNNProvStore
import Foundation

final class TempStore {
    let directory: URL
    var path: String { directory.appendingPathComponent("prov.sqlite").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dnnprov-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func open(readOnly: Bool = false) throws -> ProvStore { try ProvStore(path: path, readOnly: readOnly) }
}

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

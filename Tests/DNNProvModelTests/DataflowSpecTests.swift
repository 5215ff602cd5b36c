import DNNProvModel
import Foundation
import XCTest

final class DataflowSpecTests: XCTestCase {
    func testDfAnalyzerShapeDecodesAndNormalizes() throws {
        let json = #"""
        {"tag": "AlexNet", "transformations": [
          {"tag": "TrainingModel", "sets": [
            {"tag": "iTrainingModel", "type": "input", "attributes": [{"name": "OPTIMIZER_NAME", "type": "TEXT"}]},
            {"tag": "oTrainingModel", "type": "OUTPUT", "attributes": [{"name": "LOSS", "type": "numeric"}]}]},
          {"tag": "Adaptation", "sets": [{"tag": "oTrainingModel", "type": "INPUT", "dependency": "TrainingModel", "attributes": []}]}],
         "exec": "ignored"}
        """#
        let spec = try JSONDecoder().decode(DataflowSpec.self, from: Data(json.utf8)).normalized()
        XCTAssertEqual(spec.tag, "alexnet")
        XCTAssertEqual(spec.transformations.map(\.tag), ["trainingmodel", "adaptation"])
        XCTAssertEqual(spec.transformations[0].sets[0].role, .input)
        XCTAssertEqual(spec.transformations[0].sets[0].attributes, [AttributeSpec(name: "optimizer_name", type: .text)])
        XCTAssertTrue(spec.transformations[0].sets[1].attributes[0].type.isNumeric)
        XCTAssertEqual(spec.transformations[1].sets[0].dependency, "trainingmodel")
    }

    func testInvalidSpecificationsAreRefusedWithReasons() {
        func reason(_ spec: DataflowSpec) -> String {
            do { _ = try spec.normalized(); return "" } catch { return error.message }
        }
        let a = AttributeSpec(name: "LOSS", type: .numeric)
        XCTAssertTrue(reason(DataflowSpec(tag: "x", transformations: [TransformationSpec(tag: "t", sets: [
            SetSpec(tag: "s", role: .output, attributes: [a, a])])])).contains("twice"))
        XCTAssertTrue(reason(DataflowSpec(tag: "x", transformations: [TransformationSpec(tag: "t", sets: [
            SetSpec(tag: "task", role: .output, attributes: [a])])])).contains("reserved"))
        XCTAssertTrue(reason(DataflowSpec(tag: "x", transformations: [TransformationSpec(tag: "t", sets: [
            SetSpec(tag: "s", role: .output, attributes: [AttributeSpec(name: "t_task_id", type: .numeric)])])])).contains("reserved"))
        XCTAssertTrue(reason(DataflowSpec(tag: "x", transformations: [TransformationSpec(tag: "t", sets: [
            SetSpec(tag: "s", role: .input, attributes: [], dependency: "nowhere")])])).contains("nowhere"))
    }
}

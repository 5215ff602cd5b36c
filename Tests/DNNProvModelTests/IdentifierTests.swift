import DNNProvModel
import XCTest

final class IdentifierTests: XCTestCase {
    func testTagsAreLowerCasedAndChecked() throws {
        XCTAssertEqual(try Identifier.normalize(" oTrainingModel ", what: "set tag"), "otrainingmodel")
        XCTAssertEqual(try Identifier.normalizeDataflow("CIFAR-10_v2"), "cifar-10_v2")
        XCTAssertThrowsError(try Identifier.normalize("1abc", what: "set tag"))
        XCTAssertThrowsError(try Identifier.normalize("a b", what: "set tag"))
        XCTAssertThrowsError(try Identifier.normalize("a\"; drop table x; --", what: "attribute name"))
        XCTAssertThrowsError(try Identifier.normalizeDataflow("-x"))
        XCTAssertThrowsError(try Identifier.normalize("", what: "set tag"))
    }

    func testLongNamesAreRefusedNotCut() {
        let long = String(repeating: "a", count: 56)
        XCTAssertEqual(try Identifier.normalize(String(long.dropLast()), what: "set tag").count, 55)
        XCTAssertThrowsError(try Identifier.normalize(long, what: "attribute name")) { error in
            XCTAssertTrue((error as? ProvError)?.message.contains("56 characters") ?? false, "\(error)")
        }
    }

    func testStatuses() throws {
        XCTAssertEqual(try TaskStatus.parse("finished"), .finished)
        XCTAssertEqual(try TaskStatus.parse("FINISHED_WITH_ERROR"), .finishedWithError)
        XCTAssertTrue(TaskStatus.failed.isTerminal)
        XCTAssertFalse(TaskStatus.running.isTerminal)
        XCTAssertThrowsError(try TaskStatus.parse("DONE"))
    }
}

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
        XCTAssertThrowsError(try Identifier.normalizeDataflow(".x"))
        XCTAssertThrowsError(try Identifier.normalizeDataflow("99"), "a tag is never an id")
        XCTAssertThrowsError(try Identifier.normalize("", what: "set tag"))
        XCTAssertThrowsError(try Identifier.normalize("  ", what: "set tag"))
    }

    /// Names DfAnalyzer took as plain values: `mnist.v2`, `VAL-LOSS`, `top-5`.
    func testNamesWithDotsAndDashes() throws {
        XCTAssertEqual(try Identifier.normalizeDataflow("MNIST.v2"), "mnist.v2")
        XCTAssertEqual(try Identifier.normalize("VAL-LOSS", what: "attribute name"), "val-loss")
        XCTAssertEqual(try Identifier.normalize("top-5", what: "attribute name"), "top-5")
        XCTAssertEqual(try Identifier.normalize("o.training-model", what: "set tag"), "o.training-model")
        for bad in ["a'b", "a\"b", "a`b", "a[b]", "a\tb", "a\u{0}b", "a\nb", "a;b", "a/b", "sqlite_x", "SQLITE_stat1"] {
            XCTAssertThrowsError(try Identifier.normalize(bad, what: "set tag"), bad)
            XCTAssertThrowsError(try Identifier.normalizeDataflow(bad), bad)
        }
        XCTAssertEqual(Identifier.sqlSafe("mnist.v2__ds_val-set"), "mnist_v2__ds_val_set")
    }

    func testLongNamesAreRefusedNotCut() {
        let long = String(repeating: "a", count: Identifier.maxLength + 1)
        XCTAssertEqual(try Identifier.normalize(String(long.dropLast()), what: "set tag").count, Identifier.maxLength)
        XCTAssertEqual(try Identifier.normalize(String(repeating: "t", count: 60), what: "set tag").count, 60, "DfAnalyzer took tags over 55 characters")
        XCTAssertThrowsError(try Identifier.normalize(long, what: "attribute name")) { error in
            XCTAssertTrue((error as? ProvError)?.message.contains("\(Identifier.maxLength + 1) characters") ?? false, "\(error)")
        }
        XCTAssertThrowsError(try Identifier.normalizeDataflow(long))
    }

    func testStatuses() throws {
        XCTAssertEqual(try TaskStatus.parse("finished"), .finished)
        XCTAssertEqual(try TaskStatus.parse("FINISHED_WITH_ERROR"), .finishedWithError)
        XCTAssertTrue(TaskStatus.failed.isTerminal)
        XCTAssertFalse(TaskStatus.running.isTerminal)
        XCTAssertThrowsError(try TaskStatus.parse("DONE"))
    }
}

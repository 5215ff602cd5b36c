import DNNProvModel
import Foundation
import XCTest

final class ValueTests: XCTestCase {
    func testNumericParsingKeepsNonFiniteValues() throws {
        XCTAssertEqual(try Value.text("0.001").numeric(), 0.001)
        XCTAssertEqual(try Value.text(" 2 ").numeric(), 2)
        XCTAssertEqual(try Value.number(3).numeric(), 3)
        XCTAssertTrue(try Value.text("nan").numeric()!.isNaN)
        XCTAssertEqual(try Value.text("Infinity").numeric(), .infinity)
        XCTAssertEqual(try Value.text("-inf").numeric(), -.infinity)
        XCTAssertNil(try Value.text("None").numeric())
        XCTAssertNil(try Value.null.numeric())
        XCTAssertThrowsError(try Value.text("fast").numeric())
    }

    func testTextOfNumbers() {
        XCTAssertEqual(Value.number(5).text, "5")
        XCTAssertEqual(Value.number(0.5).text, "0.5")
        XCTAssertEqual(Value.number(.nan).text, "NaN")
        XCTAssertNil(Value.null.text)
    }

    func testDecodingMixedValues() throws {
        let v = try JSONDecoder().decode([Value].self, from: Data(#"[1.5, "adam", null, true, "0.1"]"#.utf8))
        XCTAssertEqual(v, [.number(1.5), .text("adam"), .null, .number(1), .text("0.1")])
        let out = String(decoding: try JSONEncoder().encode([Value.number(.infinity), .number(2)]), as: UTF8.self)
        XCTAssertEqual(out, #"["Infinity",2]"#)
    }
}

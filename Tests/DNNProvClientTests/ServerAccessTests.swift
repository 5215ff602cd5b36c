@testable import DNNProvClient
import XCTest

/// The token of a DfAnalyzer-style URL (`.../t/<secret>/`) and what log messages show of it.
final class ServerAccessTests: XCTestCase {
    func testPathTokenIsSplitOffTheURL() {
        XCTAssertTrue(ServerAccess.splitPathToken("http://127.0.0.1:22000/t/dnp_abc/") == ("http://127.0.0.1:22000", "dnp_abc"))
        XCTAssertTrue(ServerAccess.splitPathToken("https://h/prov/t/dnp_abc") == ("https://h/prov", "dnp_abc"))
        XCTAssertTrue(ServerAccess.splitPathToken("http://h:1/prov/") == ("http://h:1/prov", nil))
        XCTAssertTrue(ServerAccess.splitPathToken("http://t:1/") == ("http://t:1", nil))
        XCTAssertTrue(ServerAccess.splitPathToken("http://h/t/a/b") == ("http://h/t/a/b", nil))
    }

    func testLogsDoNotShowThePathToken() {
        XCTAssertEqual(ServerAccess.redact("http://h:1/t/dnp_abc/"), "http://h:1/t/***/")
        XCTAssertEqual(ServerAccess.redact("http://h:1"), "http://h:1")
    }
}

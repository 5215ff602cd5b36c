import ArgumentParser
import DNNProvModel
import Foundation

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json
}

/// Writes a result as an aligned table, CSV (RFC 4180 quoting) or JSON.
enum Output {
    static func render(_ r: QueryResult, as format: OutputFormat) throws -> String {
        switch format {
        case .json:
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            return String(decoding: try e.encode(r), as: UTF8.self) + "\n"
        case .csv:
            let lines = [r.columns.map { csv($0.name) }] + r.rows.map { $0.map { csv($0.display) } }
            return lines.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
        case .table:
            return table(header: r.columns.map(\.name), rows: r.rows.map { $0.map(\.display) })
                + "(\(r.rows.count) row\(r.rows.count == 1 ? "" : "s")\(r.truncated ? ", truncated" : ""))\n"
        }
    }

    static func table(header: [String], rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows { for (i, v) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], v.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, v in v.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: " | ").trimmingTrailingSpaces() + "\n"
        }
        return line(header) + widths.map { String(repeating: "-", count: $0) }.joined(separator: "-+-") + "\n"
            + rows.map(line).joined()
    }

    static func csv(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}

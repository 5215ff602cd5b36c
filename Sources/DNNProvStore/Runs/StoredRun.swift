import DNNProvModel
import Foundation

/// A row of `run_summary` with its execution, as the runs listing and the live stream send it.
/// Written as JSON bytes by hand, with the stored summary spliced in as it is: the runs table of
/// 10,000 runs is one indexed read and a copy, with nothing decoded or re-encoded.
struct StoredRun {
    var id: Int64
    var execution: String
    var status: String
    var tasks: Int
    var startTime: String?
    var endTime: String?
    var updatedAt: String?
    var user: String?
    var host: String?
    var script: String?

    /// Appends the `RunSummary` JSON to `out`. `summary` is the stored `RunAccumulator` JSON
    /// (`{"metrics":…,"params":…,"tables":…}`); `now` and `staleAfter` (seconds) decide `stale`
    /// and the duration of a running run.
    func write<Summary: Collection>(summary: Summary, into out: inout [UInt8], now: Double, staleAfter: Double) where Summary.Element == UInt8 {
        let start = startTime.flatMap(Timestamp.parse)
        let end = status == "RUNNING" ? now : endTime.flatMap(Timestamp.parse)
        let duration = start.flatMap { s in end.map { max(0, $0 - s) } }
        let stale = status == "RUNNING" && (updatedAt.flatMap(Timestamp.parse).map { now - $0 > staleAfter } ?? false)
        out.append(contentsOf: "{\"id\":\(id),\"execution\":".utf8)
        out.appendJSONString(execution)
        out.append(contentsOf: ",\"status\":".utf8)
        out.appendJSONString(status)
        out.append(contentsOf: ",\"stale\":\(stale),\"tasks\":\(tasks),\"duration\":".utf8)
        out.append(contentsOf: (duration.map { String(($0 * 1000).rounded() / 1000) } ?? "null").utf8)
        for (key, value) in [("start_time", startTime), ("end_time", endTime), ("updated_at", updatedAt),
                             ("user", user), ("host", host), ("script", script)] {
            out.append(contentsOf: ",\"\(key)\":".utf8)
            if let value { out.appendJSONString(value) } else { out.append(contentsOf: "null".utf8) }
        }
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: summary.dropFirst())
    }

    /// The `RunSummary` JSON as text (a live event).
    func json(summary: String, now: Double, staleAfter: Double) -> String {
        var out: [UInt8] = []
        write(summary: summary.utf8, into: &out, now: now, staleAfter: staleAfter)
        return String(decoding: out, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    /// Appends `s` as a JSON string literal.
    mutating func appendJSONString(_ s: String) {
        append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): append(contentsOf: [92, 92])
            case 0x0A: append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: append(byte)
            }
        }
        append(UInt8(ascii: "\""))
    }
}

import Foundation

/// Times are stored as UTC text, `YYYY-MM-DD HH:MM:SS.mmm`: sortable, readable, and understood by
/// SQLite's date functions and PostgreSQL alike.
public enum Timestamp {
    /// The current time, as stored.
    public static func now() -> String { format(Date().timeIntervalSince1970) }

    /// Seconds since the epoch as stored text (clamped to the range events may carry).
    public static func format(_ epoch: Double) -> String {
        // Requests are checked against Limits first; the clamp keeps any other caller from
        // reaching a trapping conversion (1e300 seconds would not fit in Int64).
        let epoch = epoch.isFinite ? min(max(epoch, 0), Limits.maxEventTime) : 0
        let ms = Int64((epoch * 1000).rounded())
        let secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let milli = Int(ms - secs * 1000)
        let days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400
        let sod = Int(secs - days * 86400)
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        let y = Int(yoe + era * 400) + (m <= 2 ? 1 : 0)
        func p2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let ms3 = milli < 10 ? "00\(milli)" : (milli < 100 ? "0\(milli)" : "\(milli)")
        return "\(y)-\(p2(m))-\(p2(d)) \(p2(sod / 3600)):\(p2(sod % 3600 / 60)):\(p2(sod % 60)).\(ms3)"
    }
}

extension Timestamp {
    /// Seconds since the epoch of a stored time (`YYYY-MM-DD HH:MM:SS[.mmm]`), or nil when the text
    /// is not one.
    public static func parse(_ text: String) -> Double? {
        let b = Array(text.utf8)
        guard b.count >= 19, b[4] == 45, b[7] == 45, b[10] == 32 || b[10] == 84, b[13] == 58, b[16] == 58 else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard b[i] >= 48, b[i] <= 57 else { return nil }; v = v * 10 + Int(b[i] - 48) }
            return v
        }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10), let hh = num(11..<13), let mm = num(14..<16),
              let ss = num(17..<19), (1...12).contains(m), (1...31).contains(d) else { return nil }
        var fraction = 0.0
        if b.count > 20, b[19] == 46, let f = num(20..<b.count) { fraction = Double(f) / pow(10, Double(b.count - 20)) }
        // Days from civil (Howard Hinnant's algorithm), the inverse of `format`.
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Double(days * 86400 + hh * 3600 + mm * 60 + ss) + fraction
    }
}

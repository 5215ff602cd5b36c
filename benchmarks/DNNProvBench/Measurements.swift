import Foundation

/// Order statistics of a sample.
struct Percentiles {
    let sorted: [Double]

    init(_ values: [Double]) { sorted = values.sorted() }

    func at(_ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let i = Swift.min(sorted.count - 1, Swift.max(0, Int((p / 100 * Double(sorted.count - 1)).rounded())))
        return sorted[i]
    }

    var median: Double { at(50) }
    var p99: Double { at(99) }
    var max: Double { sorted.last ?? .nan }
}

/// `1234567.8` as `1,234,568`.
func grouped(_ x: Double) -> String {
    guard x.isFinite else { return "n/a" }
    let digits = String(Int64(x.rounded()))
    var out = ""
    for (i, c) in digits.reversed().enumerated() {
        if i > 0, i % 3 == 0, c != "-" { out.append(",") }
        out.append(c)
    }
    return String(out.reversed())
}

func fixed(_ x: Double, _ decimals: Int = 2) -> String {
    guard x.isFinite else { return "n/a" }
    return String(format: "%.\(decimals)f", x)
}

func padded(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}

func scratchDirectory(_ prefix: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

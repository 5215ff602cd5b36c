/// One attribute value as a client sends it: a number, a text or nothing.
public enum Value: Sendable, Equatable, Hashable {
    case null
    case number(Double)
    case text(String)
}

extension Value: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .text(s)
        } else if let b = try? c.decode(Bool.self) {
            self = .number(b ? 1 : 0)
        } else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: c.codingPath, debugDescription: "a value must be a number, a string or null"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .number(let d):
            if d.isFinite { try c.encode(d) } else { try c.encode(Value.nonFiniteText(d)) }
        case .text(let s): try c.encode(s)
        }
    }

    /// How a value that is not finite is written where JSON has no number for it.
    public static func nonFiniteText(_ d: Double) -> String {
        d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity")
    }

    /// The value as a double for a NUMERIC attribute, or nil when it is null.
    /// Strings holding numbers are accepted (DfAnalyzer clients send every value as a string),
    /// as are NaN and infinities in their usual spellings.
    public func numeric() throws(ProvError) -> Double? {
        switch self {
        case .null: return nil
        case .number(let d): return d
        case .text(let s):
            let t = s.trimmingWhitespace()
            if t.isEmpty || t.lowercased() == "none" || t.lowercased() == "null" { return nil }
            if let d = Double(t) { return d }
            switch t.lowercased() {
            case "nan", "-nan": return .nan
            case "inf", "infinity", "+inf", "+infinity": return .infinity
            case "-inf", "-infinity": return -.infinity
            default: throw .unprocessable("'\(s.count > 40 ? String(s.prefix(40)) + "…" : s)' is not a number")
            }
        }
    }

    /// The value as text for a TEXT or FILE attribute.
    public var text: String? {
        switch self {
        case .null: return nil
        case .text(let s): return s
        case .number(let d):
            if !d.isFinite { return Value.nonFiniteText(d) }
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            return String(d)
        }
    }
}

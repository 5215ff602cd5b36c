/// The type of an attribute. NUMERIC is stored as a double; every other type (TEXT, FILE,
/// LONG_TEXT and the raw-data extractor types of DfAnalyzer) is stored as text.
public struct AttributeType: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue.uppercased() }

    public static let text = AttributeType(rawValue: "TEXT")
    public static let numeric = AttributeType(rawValue: "NUMERIC")
    public static let file = AttributeType(rawValue: "FILE")
    public static let longText = AttributeType(rawValue: "LONG_TEXT")

    public var isNumeric: Bool { rawValue == "NUMERIC" }
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

import Foundation

/// Any JSON value, kept as its JSON text (a `hardware` description may come as a JSON string
/// holding JSON, or as an object).
public struct JSONText: Codable, Sendable, Equatable {
    public var text: String

    public init(text: String) {
        self.text = text
    }

    /// Written as a string holding the JSON: decoding that gives the same text back.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            text = s
        } else {
            let any = try c.decode(AnyJSON.self)
            let data = try JSONSerialization.data(withJSONObject: any.value, options: [.sortedKeys, .fragmentsAllowed])
            text = String(decoding: data, as: UTF8.self)
        }
    }
}

private struct AnyJSON: Decodable {
    var value: Any

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let c = try? decoder.container(keyedBy: Key.self) {
            var dict: [String: Any] = [:]
            for k in c.allKeys { dict[k.stringValue] = try c.decode(AnyJSON.self, forKey: k).value }
            value = dict
        } else if var c = try? decoder.unkeyedContainer() {
            var list: [Any] = []
            while !c.isAtEnd { list.append(try c.decode(AnyJSON.self).value) }
            value = list
        } else {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { value = NSNull() }
            else if let b = try? c.decode(Bool.self) { value = b }
            else if let d = try? c.decode(Double.self) { value = d }
            else { value = try c.decode(String.self) }
        }
    }
}

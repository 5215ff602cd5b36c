import Foundation

/// A query result: typed columns and rows of JSON-ready values.
public struct QueryResult: Sendable, Codable, Equatable {
    public struct Column: Sendable, Codable, Equatable {
        public var name: String
        /// INTEGER, REAL, TEXT, BLOB, or NULL when every value is null.
        public var type: String
        public init(name: String, type: String) {
            self.name = name
            self.type = type
        }
    }

    /// Which limit cut a result short.
    public enum Limit: String, Sendable, Codable, Equatable {
        /// The row limit of the request.
        case rows
        /// The byte budget of an answer (`--max-result-mb`).
        case bytes
    }

    public var columns: [Column]
    public var rows: [[QueryValue]]
    /// More rows matched than the answer holds; `limit` says which limit stopped it.
    public var truncated: Bool
    public var elapsedMs: Double
    public var limit: Limit?

    public init(columns: [Column], rows: [[QueryValue]], truncated: Bool, elapsedMs: Double, limit: Limit? = nil) {
        self.columns = columns
        self.rows = rows
        self.truncated = truncated
        self.elapsedMs = elapsedMs
        self.limit = limit
    }

    enum CodingKeys: String, CodingKey {
        case columns, rows, truncated, limit
        case elapsedMs = "elapsed_ms"
    }
}

/// One cell of a result. Non-finite doubles are written as the strings "NaN", "Infinity".
public enum QueryValue: Sendable, Codable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)

    public var typeName: String {
        switch self {
        case .null: return "NULL"
        case .integer: return "INTEGER"
        case .real: return "REAL"
        case .text: return "TEXT"
        case .blob: return "BLOB"
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let i = try? c.decode(Int64.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .real(d) }
        else { self = .text(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .integer(let i): try c.encode(i)
        case .real(let d): if d.isFinite { try c.encode(d) } else { try c.encode(Value.nonFiniteText(d)) }
        case .text(let s): try c.encode(s)
        case .blob(let b): try c.encode(b.base64EncodedString())
        }
    }

    /// The value as display text (CLI tables and CSV).
    public var display: String {
        switch self {
        case .null: return ""
        case .integer(let i): return String(i)
        case .real(let d): return d.isFinite ? String(d) : Value.nonFiniteText(d)
        case .text(let s): return s
        case .blob(let b): return b.base64EncodedString()
        }
    }

    public var double: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .real(let d): return d
        case .text(let s): return Double(s)
        default: return nil
        }
    }
}


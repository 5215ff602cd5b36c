import DNNProvModel
import Foundation

/// A value as both backends store it: the four storage classes SQLite has, which PostgreSQL's
/// `bigint`, `double precision`, `text` and `bytea` columns hold as well.
package enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    package var isNull: Bool { if case .null = self { return true }; return false }
}

/// A Swift value that can be bound to a statement and read back from a row.
package protocol SQLValueConvertible {
    var sqlValue: SQLValue { get }
    /// `nil` when the stored value is null or of another kind.
    static func fromSQL(_ value: SQLValue) -> Self?
}

extension SQLValue: SQLValueConvertible {
    package var sqlValue: SQLValue { self }
    package static func fromSQL(_ value: SQLValue) -> SQLValue? { value }
}

extension Int64: SQLValueConvertible {
    package var sqlValue: SQLValue { .integer(self) }
    package static func fromSQL(_ value: SQLValue) -> Int64? {
        switch value {
        case .integer(let i): return i
        // SQLite's max() over an INTEGER column of REAL affinity, PostgreSQL's numeric sums.
        case .real(let d): return d.rounded() == d && abs(d) < 9.2e18 ? Int64(d) : nil
        case .text(let s): return Int64(s)
        default: return nil
        }
    }
}

extension Int: SQLValueConvertible {
    package var sqlValue: SQLValue { .integer(Int64(self)) }
    package static func fromSQL(_ value: SQLValue) -> Int? { Int64.fromSQL(value).map(Int.init) }
}

extension Double: SQLValueConvertible {
    package var sqlValue: SQLValue { .real(self) }
    package static func fromSQL(_ value: SQLValue) -> Double? {
        switch value {
        case .real(let d): return d
        case .integer(let i): return Double(i)
        case .text(let s): return Double(s)
        default: return nil
        }
    }
}

extension String: SQLValueConvertible {
    package var sqlValue: SQLValue { .text(self) }
    package static func fromSQL(_ value: SQLValue) -> String? {
        switch value {
        case .text(let s): return s
        case .integer(let i): return String(i)
        case .real(let d): return String(d)
        default: return nil
        }
    }
}

extension Bool: SQLValueConvertible {
    /// Stored as 0 or 1 in both backends (INTEGER columns), so the same SQL reads it.
    package var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    package static func fromSQL(_ value: SQLValue) -> Bool? {
        switch value {
        case .integer(let i): return i != 0
        case .real(let d): return d != 0
        case .text(let s): return s == "t" || s == "true" || s == "1"
        default: return nil
        }
    }
}

extension Array: SQLValueConvertible where Element == UInt8 {
    package var sqlValue: SQLValue { .blob(self) }
    package static func fromSQL(_ value: SQLValue) -> [UInt8]? {
        switch value {
        case .blob(let b): return b
        case .text(let s): return Array(s.utf8)
        default: return nil
        }
    }
}

extension Optional: SQLValueConvertible where Wrapped: SQLValueConvertible {
    package var sqlValue: SQLValue { self?.sqlValue ?? .null }
    /// Null reads as `.some(nil)`; a value of the wrong kind as `nil`.
    package static func fromSQL(_ value: SQLValue) -> Wrapped?? {
        if case .null = value { return .some(nil) }
        return Wrapped.fromSQL(value).map { .some($0) }
    }
}

extension QueryValue {
    /// A stored value as answers carry it.
    package init(_ v: SQLValue) {
        switch v {
        case .null: self = .null
        case .integer(let i): self = .integer(i)
        case .real(let d): self = d.isNaN ? .text("NaN") : .real(d)
        case .text(let s): self = .text(s)
        case .blob(let b): self = .blob(Data(b))
        }
    }
}

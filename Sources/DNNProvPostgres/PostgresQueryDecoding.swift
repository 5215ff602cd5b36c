import DNNProvModel
import Foundation
import NIOCore
import PostgresNIO

/// Turns PostgreSQL result cells into `QueryValue`s and names their types.
///
/// PostgresNIO asks the server for every column in binary format, so each type needs its own
/// decoding: integers and floats keep their kind, `numeric` becomes a real when a double holds
/// it, `boolean` becomes 0/1 (as SQLite answers), `bytea` a blob, text-like types and those with
/// an obvious text form (uuid, dates, timestamps) text. Types without one here (arrays, intervals,
/// geometric and network types, ranges) are refused with the advice to cast them to text: a
/// guessed rendering of their binary form would be wrong, silently.
enum PostgresQueryDecoding {
    /// The type's name as PostgreSQL's `format_type` writes it, for `QueryResult.Column.type`.
    static func typeName(_ t: PostgresDataType) -> String {
        switch t.rawValue {
        case 16: return "boolean"
        case 17: return "bytea"
        case 18: return "\"char\""
        case 19: return "name"
        case 20: return "bigint"
        case 21: return "smallint"
        case 23: return "integer"
        case 25: return "text"
        case 26: return "oid"
        case 114: return "json"
        case 142: return "xml"
        case 700: return "real"
        case 701: return "double precision"
        case 705: return "unknown"
        case 1042: return "character"
        case 1043: return "character varying"
        case 1082: return "date"
        case 1083: return "time without time zone"
        case 1114: return "timestamp without time zone"
        case 1184: return "timestamp with time zone"
        case 1186: return "interval"
        case 1700: return "numeric"
        case 2278: return "void"
        case 2950: return "uuid"
        case 3802: return "jsonb"
        default: return t.knownSQLName?.lowercased() ?? "oid \(t.rawValue)"
        }
    }

    /// The value of one cell.
    ///
    /// - Throws: `ProvError.badRequest` for a type answers cannot carry (see the type's doc).
    static func value(_ cell: PostgresCell) throws -> QueryValue {
        guard cell.bytes != nil else { return .null }
        do {
            switch cell.dataType {
            case .int2: return .integer(Int64(try cell.decode(Int16.self)))
            case .int4: return .integer(Int64(try cell.decode(Int32.self)))
            case .int8: return .integer(try cell.decode(Int64.self))
                        case .oid:
                guard var buffer = cell.bytes, buffer.readableBytes == 4, let oid = buffer.readInteger(as: UInt32.self) else { throw Unsupported() }
                return .integer(Int64(oid))
            case .float4: return .real(Double(try cell.decode(Float.self)))
            case .float8: return .real(try cell.decode(Double.self))
            case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
            case .bytea:
                guard let buffer = cell.bytes else { return .null }
                return .blob(Data(buffer.readableBytesView))
            case .numeric:
                guard let buffer = cell.bytes, let text = numericText(buffer) else { throw Unsupported() }
                // Through its text: the nearest double, as SQLite stores a REAL; NaN and the
                // infinities stay text.
                if let double = Double(text), double.isFinite { return .real(double) }
                return .text(text)
            case .uuid: return .text(try cell.decode(UUID.self).uuidString.lowercased())
            case .timestamptz, .timestamp:
                return .text(timestampFormat.format(try cell.decode(Date.self)))
            case .date:
                return .text(String(timestampFormat.format(try cell.decode(Date.self)).prefix(10)))
            case .void:
                return .null
            case .text, .varchar, .bpchar, .name, .char, .json, .jsonb, .xml, .unknown:
                return .text(try cell.decode(String.self))
            default:
                throw Unsupported()
            }
        } catch {
            let type = typeName(cell.dataType)
            throw ProvError.badRequest("column '\(cell.columnName.clipped(to: 60))' has type \(type), which query answers do not carry; cast it to text (\(Identifier.isSQLIdentifier(cell.columnName) ? cell.columnName : "expression")::text)")
        }
    }

    private struct Unsupported: Error {}

    /// A binary `numeric` as PostgreSQL writes it in text: PostgresNIO's `Decimal` decoding
    /// stops at 38 digits and reads NaN as 0. The format: digit count, weight (of the first
    /// base-10000 digit), sign, display scale, then the base-10000 digits.
    static func numericText(_ buffer: ByteBuffer) -> String? {
        var b = buffer
        guard let count = b.readInteger(as: Int16.self), let weight = b.readInteger(as: Int16.self),
              let sign = b.readInteger(as: UInt16.self), let scale = b.readInteger(as: Int16.self), count >= 0 else { return nil }
        switch sign {
        case 0xC000: return "NaN"
        case 0xD000: return "Infinity"
        case 0xF000: return "-Infinity"
        case 0x0000, 0x4000: break
        default: return nil
        }
        var digits: [Int16] = []
        for _ in 0..<count {
            guard let d = b.readInteger(as: Int16.self), d >= 0, d < 10000 else { return nil }
            digits.append(d)
        }
        func digit(_ k: Int) -> Int16 { k >= 0 && k < digits.count ? digits[k] : 0 }
        func padded(_ d: Int16) -> String { let s = String(d); return String(repeating: "0", count: 4 - s.count) + s }
        // digits[k] stands for 10000^(weight - k).
        var integer = weight < 0 ? "0" : ""
        if weight >= 0 {
            for k in 0...Int(weight) { integer += k == 0 ? String(digit(k)) : padded(digit(k)) }
        }
        var fraction = ""
        var k = Int(weight) + 1
        while fraction.count < Int(scale) {
            fraction += padded(digit(k))
            k += 1
        }
        fraction = String(fraction.prefix(Int(max(0, scale))))
        let negative = sign == 0x4000 && (digits.contains { $0 != 0 })
        return (negative ? "-" : "") + integer + (fraction.isEmpty ? "" : "." + fraction)
    }

    /// ISO 8601 in UTC with milliseconds, the form JSON readers parse.
    private static let timestampFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
}

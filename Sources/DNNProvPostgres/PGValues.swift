import DNNProvStore
import Foundation
import NIOCore
import PostgresNIO

/// Result cells as `SQLValue`s. PostgresNIO asks for every column in binary format, so each type
/// the store reads is decoded from its binary form; anything else is decoded as text where
/// PostgresNIO can (`jsonb`, `uuid`, timestamps) and otherwise read as its raw bytes in UTF-8.
enum PGValues {
    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard var buffer = cell.bytes else { return .null }
        switch cell.dataType {
        case .int2:
            return .integer(Int64(buffer.readInteger(as: Int16.self) ?? 0))
        case .int4:
            return .integer(Int64(buffer.readInteger(as: Int32.self) ?? 0))
        case .int8:
            return .integer(buffer.readInteger(as: Int64.self) ?? 0)
        case .oid:
            return .integer(Int64(buffer.readInteger(as: UInt32.self) ?? 0))
        case .float4:
            return .real(Double(Float(bitPattern: buffer.readInteger(as: UInt32.self) ?? 0)))
        case .float8:
            return .real(Double(bitPattern: buffer.readInteger(as: UInt64.self) ?? 0))
        case .numeric:
            return .real(numeric(buffer))
        case .bool:
            return .integer(buffer.readInteger(as: UInt8.self) == 0 ? 0 : 1)
        case .bytea:
            return .blob(Array(buffer.readableBytesView))
        case .timestamp, .timestamptz, .date:
            let date = try cell.decode(Date.self)
            return .text(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        default:
            if let s = try? cell.decode(String.self) { return .text(s) }
            return .text(String(decoding: buffer.readableBytesView, as: UTF8.self))
        }
    }

    /// A binary `numeric` as a double: through its decimal text, so that the double is the
    /// correctly rounded one (as PostgreSQL's own float8 cast), NaN and the infinities included.
    static func numeric(_ b: ByteBuffer) -> Double {
        PostgresQueryDecoding.numericText(b).flatMap(Double.init) ?? .nan
    }
}

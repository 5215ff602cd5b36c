/// Reads the TFRecord framing of TensorBoard event files, without TensorFlow. Each record is
///
///     uint64 length (little endian)
///     uint32 masked CRC-32C of the 8 length bytes
///     byte   data[length]
///     uint32 masked CRC-32C of the data
///
/// A record whose data CRC does not match is skipped with a warning; a length whose CRC does not
/// match (the framing is lost) or a truncated last record (a file still being written) ends the
/// file with a warning. Records are returned in file order.
public struct TFRecordReader: Sendable {
    /// What was read: the records' data and what was wrong, as messages naming the record.
    public struct Result: Sendable {
        public var records: [[UInt8]]
        public var warnings: [String]
    }

    /// Splits `bytes` (a whole file) into records. `name` is used in the warnings.
    public static func read(_ bytes: [UInt8], name: String) -> Result {
        var records: [[UInt8]] = []
        var warnings: [String] = []
        var offset = 0
        var index = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 12 else {
                warnings.append("\(name): record \(index) at byte \(offset) is truncated (\(bytes.count - offset) bytes left); the rest is ignored")
                break
            }
            let lengthBytes = bytes[offset..<offset + 8]
            let length = le64(bytes, offset)
            guard maskedCRC(lengthBytes) == le32(bytes, offset + 8) else {
                warnings.append("\(name): record \(index) at byte \(offset) has a bad length checksum; the rest of the file is ignored")
                break
            }
            let start = offset + 12
            guard length <= UInt64(bytes.count - start), bytes.count - start - Int(length) >= 4 else {
                warnings.append("\(name): record \(index) at byte \(offset) is truncated (length \(length)); the rest is ignored")
                break
            }
            let end = start + Int(length)
            let data = bytes[start..<end]
            if maskedCRC(data) == le32(bytes, end) {
                records.append(Array(data))
            } else {
                warnings.append("\(name): record \(index) at byte \(offset) has a bad data checksum; skipped")
            }
            offset = end + 4
            index += 1
        }
        return Result(records: records, warnings: warnings)
    }

    /// Frames `data` as one record (for writing test files).
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var length = UInt64(data.count)
        var lengthBytes: [UInt8] = []
        for _ in 0..<8 { lengthBytes.append(UInt8(length & 0xff)); length >>= 8 }
        out += lengthBytes
        out += bytes32(maskedCRC(lengthBytes[...]))
        out += data
        out += bytes32(maskedCRC(data[...]))
        return out
    }

    /// TFRecord's masked CRC: `((crc >> 15) | (crc << 17)) + 0xa282ead8` of the CRC-32C.
    public static func maskedCRC(_ data: ArraySlice<UInt8>) -> UInt32 {
        let c = crc32c(data)
        return ((c >> 15) | (c << 17)) &+ 0xa282_ead8
    }

    /// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
    public static func crc32c(_ data: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for b in data { crc = table[Int((crc ^ UInt32(b)) & 0xff)] ^ (crc >> 8) }
        return crc ^ 0xffff_ffff
    }

    private static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82f6_3b78 : c >> 1 }
        return c
    }

    private static func le64(_ b: [UInt8], _ o: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in (0..<8).reversed() { v = (v << 8) | UInt64(b[o + i]) }
        return v
    }

    private static func le32(_ b: [UInt8], _ o: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in (0..<4).reversed() { v = (v << 8) | UInt32(b[o + i]) }
        return v
    }

    private static func bytes32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }
}

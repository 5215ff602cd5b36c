/// A reader of protocol-buffer wire format: fields as (number, wire type), then their values.
struct ProtoReader {
    private var buf: ArraySlice<UInt8>
    init(_ bytes: ArraySlice<UInt8>) { self.buf = bytes }

    var atEnd: Bool { buf.isEmpty }

    /// The next field's number and wire type, or nil at the end.
    mutating func next() throws(ImportError) -> (UInt64, UInt64)? {
        guard !buf.isEmpty else { return nil }
        let key = try varint()
        return (key >> 3, key & 7)
    }

    mutating func varint() throws(ImportError) -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while let b = buf.first {
            buf.removeFirst()
            guard shift < 64 else { throw ImportError("varint too long") }
            v |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return v }
            shift += 7
        }
        throw ImportError("truncated varint")
    }

    mutating func fixed32() throws(ImportError) -> UInt32 {
        guard buf.count >= 4 else { throw ImportError("truncated fixed32") }
        var v: UInt32 = 0
        for (i, b) in buf.prefix(4).enumerated() { v |= UInt32(b) << (8 * UInt32(i)) }
        buf.removeFirst(4)
        return v
    }

    mutating func fixed64() throws(ImportError) -> UInt64 {
        guard buf.count >= 8 else { throw ImportError("truncated fixed64") }
        var v: UInt64 = 0
        for (i, b) in buf.prefix(8).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        buf.removeFirst(8)
        return v
    }

    mutating func bytes() throws(ImportError) -> ArraySlice<UInt8> {
        let n = try varint()
        guard n <= UInt64(buf.count) else { throw ImportError("truncated length-delimited field") }
        let out = buf.prefix(Int(n))
        buf.removeFirst(Int(n))
        return out
    }

    mutating func skip(_ wire: UInt64) throws(ImportError) {
        switch wire {
        case 0: _ = try varint()
        case 1: _ = try fixed64()
        case 2: _ = try bytes()
        case 5: _ = try fixed32()
        default: throw ImportError("unsupported wire type \(wire)")
        }
    }
}

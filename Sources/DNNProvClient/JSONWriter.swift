import DNNProvModel

/// A minimal JSON writer for task events: the sender encodes thousands of events per batch, and a
/// direct byte writer is several times faster than `JSONEncoder` with its intermediate containers.
struct JSONWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func raw(_ b: UInt8) { bytes.append(b) }

    mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case UInt8(ascii: "\n"): raw("\\n")
            case UInt8(ascii: "\r"): raw("\\r")
            case UInt8(ascii: "\t"): raw("\\t")
            case 0..<0x20:
                raw("\\u00")
                bytes.append(Self.hex[Int(c >> 4)])
                bytes.append(Self.hex[Int(c & 0xF)])
            default: bytes.append(c)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    mutating func integer<I: BinaryInteger>(_ i: I) {
        bytes.append(contentsOf: String(i).utf8)
    }

    /// Finite doubles as JSON numbers (integral ones without a fraction), others as the strings
    /// the server accepts for NUMERIC attributes.
    mutating func number(_ d: Double) {
        if !d.isFinite {
            string(Value.nonFiniteText(d))
        } else if d == d.rounded(), abs(d) < 1e15 {
            integer(Int64(d))
        } else {
            bytes.append(contentsOf: d.description.utf8)
        }
    }

    mutating func value(_ v: Value) {
        switch v {
        case .null: raw("null")
        case .number(let d): number(d)
        case .text(let s): string(s)
        }
    }

    /// `"name":` preceded by a comma.
    mutating func key(_ name: StaticString) {
        raw(",\"")
        raw(name)
        raw("\":")
    }
}

extension JSONWriter {
    /// One event of `POST /api/v1/batch` (docs/api.md).
    mutating func event(_ e: TaskEvent, key: String) {
        raw("{\"key\":")
        string(key)
        self.key("dataflow"); string(e.dataflow)
        if let x = e.execution { self.key("execution"); string(x) }
        self.key("transformation"); string(e.transformation)
        self.key("task"); string(e.task)
        self.key("status"); string(e.status.rawValue)
        if let t = e.time { self.key("time"); bytes.append(contentsOf: t.description.utf8) }
        if !e.dependencies.isEmpty {
            self.key("dependencies")
            raw("[")
            for (i, d) in e.dependencies.enumerated() {
                if i > 0 { raw(",") }
                raw("{\"transformation\":"); string(d.transformation)
                raw(",\"task\":"); string(d.task); raw("}")
            }
            raw("]")
        }
        if !e.sets.isEmpty {
            self.key("sets")
            raw("[")
            for (i, s) in e.sets.enumerated() {
                if i > 0 { raw(",") }
                raw("{\"tag\":"); string(s.tag)
                if let names = s.attributes {
                    raw(",\"attributes\":[")
                    for (k, name) in names.enumerated() {
                        if k > 0 { raw(",") }
                        string(name)
                    }
                    raw("]")
                }
                raw(",\"elements\":[")
                for (j, row) in s.elements.enumerated() {
                    if j > 0 { raw(",") }
                    raw("[")
                    for (k, v) in row.enumerated() {
                        if k > 0 { raw(",") }
                        value(v)
                    }
                    raw("]")
                }
                raw("]}")
            }
            raw("]")
        }
        if !e.files.isEmpty {
            self.key("files")
            raw("[")
            for (i, f) in e.files.enumerated() {
                if i > 0 { raw(",") }
                raw("{\"name\":"); string(f.name)
                raw(",\"path\":"); string(f.path); raw("}")
            }
            raw("]")
        }
        if let info = e.executionInfo {
            self.key("execution_info")
            raw("{")
            var first = true
            func field(_ w: inout JSONWriter, _ name: StaticString, _ v: String?) {
                guard let v else { return }
                if !first { w.raw(",") }
                first = false
                w.raw("\""); w.raw(name); w.raw("\":"); w.string(v)
            }
            field(&self, "user", info.user)
            field(&self, "host", info.host)
            field(&self, "script", info.script)
            field(&self, "email", info.email)
            // `hardware` is a JSON document; the server accepts it as text.
            field(&self, "hardware", info.hardware)
            raw("}")
        }
        if let err = e.error { self.key("error"); string(err) }
        if let out = e.output { self.key("output"); string(out) }
        raw("}")
    }
}

extension TaskEvent {
    /// Attribute values in the event's rows.
    var valueCount: Int {
        var n = 0
        for s in sets { for row in s.elements { n += row.count } }
        return n
    }
}

extension TaskEvent {
    /// A digest of everything the event says except its key, stable across processes and
    /// versions (Swift's `Hasher` is seeded per process, so it cannot be stored). The store keeps
    /// it with the idempotency key: a retried event has the same fingerprint and is a duplicate;
    /// the same key with another fingerprint is a client bug, answered 409 instead of silently
    /// dropping the new content. FNV-1a over a length-prefixed encoding: not a defence against
    /// an adversary who holds a write token, only against accidental key reuse.
    public var fingerprint: String {
        var h = FNV1a()
        h.add(dataflow)
        h.add(execution)
        h.add(transformation)
        h.add(task)
        h.add(status.rawValue)
        h.add(time)
        h.add(UInt64(dependencies.count))
        for d in dependencies {
            h.add(d.transformation)
            h.add(d.task)
        }
        h.add(UInt64(sets.count))
        for s in sets {
            h.add(s.tag)
            h.add(s.attributes.map { UInt64($0.count) } ?? UInt64.max)
            for a in s.attributes ?? [] { h.add(a) }
            h.add(UInt64(s.elements.count))
            for row in s.elements {
                h.add(UInt64(row.count))
                for v in row {
                    switch v {
                    case .null: h.add(UInt64(0))
                    case .number(let d): h.add(UInt64(1)); h.add(d)
                    case .text(let t): h.add(UInt64(2)); h.add(t)
                    }
                }
            }
        }
        h.add(UInt64(files.count))
        for f in files {
            h.add(f.name)
            h.add(f.path)
        }
        h.add(UInt64(performances.count))
        for p in performances {
            h.add(p.startTime)
            h.add(p.endTime)
        }
        for s in [executionInfo?.user, executionInfo?.host, executionInfo?.script, executionInfo?.email,
                  executionInfo?.hardware, error, output, workspace, resource] {
            h.add(s)
        }
        return h.hex
    }
}

/// 64-bit FNV-1a, fed with length-prefixed fields so that ("ab", "c") and ("a", "bc") differ.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ v: UInt64) {
        var v = v
        for _ in 0..<8 {
            value = (value ^ (v & 0xff)) &* 0x0000_0100_0000_01b3
            v >>= 8
        }
    }

    mutating func add(_ s: String) {
        add(UInt64(s.utf8.count))
        for b in s.utf8 { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    }

    mutating func add(_ s: String?) {
        if let s { add(UInt64(1)); add(s) } else { add(UInt64(0)) }
    }

    mutating func add(_ d: Double) { add(d.bitPattern) }

    mutating func add(_ d: Double?) {
        if let d { add(UInt64(1)); add(d) } else { add(UInt64(0)) }
    }

    var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

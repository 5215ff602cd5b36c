import DNNProvModel
import Foundation

/// One request the sender delivers, already encoded: a batch of events or a dataflow
/// registration. The encoded form is also its spool line:
///
///     {"seq":17,"last":1016,"events":[...]}        (the whole line is the batch body;
///                                                   the server ignores seq and last)
///     {"seq":16,"last":16,"dataflow":{...}}        (the body is the value of "dataflow")
///
/// `seq`/`last` are the client's sequence numbers of the first and last item; the spool replays
/// records in `seq` order, whatever order they were written in.
struct Record: Sendable {
    enum Kind: Sendable { case batch, dataflow }

    var kind: Kind
    var first: Int64
    var last: Int64
    var line: [UInt8]
    /// Where the value of "events"/"dataflow" starts in `line`.
    var payloadStart: Int
    var events: Int
    var values: Int

    var path: String { kind == .batch ? "/api/v1/batch" : "/api/v1/dataflows" }

    var body: ArraySlice<UInt8> {
        kind == .batch ? line[...] : line[payloadStart..<(line.count - 1)]
    }

    static func prefix(_ w: inout JSONWriter, first: Int64, last: Int64, kind: Kind) {
        w.raw("{\"seq\":"); w.integer(first)
        w.raw(",\"last\":"); w.integer(last)
        w.raw(kind == .batch ? ",\"events\":" : ",\"dataflow\":")
    }

    static func dataflow(_ spec: DataflowSpec, seq: Int64) -> Record {
        var w = JSONWriter()
        prefix(&w, first: seq, last: seq, kind: .dataflow)
        let start = w.bytes.count
        w.bytes.append(contentsOf: (try? JSONEncoder().encode(spec)) ?? Data("{}".utf8))
        w.raw("}")
        return Record(kind: .dataflow, first: seq, last: seq, line: w.bytes, payloadStart: start, events: 0, values: 0)
    }

    /// Batches of at most `batchSize` events, cut at dataflow registrations so that order holds.
    static func encode(_ items: [QueueItem], base: Int64, clientID: String, batchSize: Int) -> [Record] {
        var out: [Record] = []
        var i = 0
        while i < items.count {
            if case .dataflow(let spec) = items[i] {
                out.append(.dataflow(spec, seq: base + Int64(i)))
                i += 1
                continue
            }
            var j = i
            while j < items.count, j - i < batchSize, case .event = items[j] { j += 1 }
            var w = JSONWriter(capacity: (j - i) * 300 + 64)
            prefix(&w, first: base + Int64(i), last: base + Int64(j - 1), kind: .batch)
            let start = w.bytes.count
            w.raw("[")
            var values = 0
            for k in i..<j {
                guard case .event(let e) = items[k] else { continue }
                if k > i { w.raw(",") }
                w.event(e, key: "\(clientID)-\(base + Int64(k))")
                values += e.valueCount
            }
            w.raw("]}")
            out.append(Record(kind: .batch, first: base + Int64(i), last: base + Int64(j - 1), line: w.bytes,
                              payloadStart: start, events: j - i, values: values))
            i = j
        }
        return out
    }

    func withPrefix(first: Int64, last: Int64) -> Record {
        var w = JSONWriter(capacity: line.count + 16)
        Record.prefix(&w, first: first, last: last, kind: kind)
        let start = w.bytes.count
        w.bytes.append(contentsOf: line[payloadStart...])
        return Record(kind: kind, first: first, last: last, line: w.bytes, payloadStart: start, events: events, values: values)
    }

    /// Parses a spool line written by `encode` (possibly by another process).
    static func parse(_ line: ArraySlice<UInt8>) -> Record? {
        let bytes = Array(line)
        func int(after label: String, from: Int) -> (Int64, Int)? {
            let l = Array(label.utf8)
            guard bytes.count >= from + l.count, Array(bytes[from..<(from + l.count)]) == l else { return nil }
            var i = from + l.count
            var s = ""
            while i < bytes.count, bytes[i] == UInt8(ascii: "-") || (bytes[i] >= 48 && bytes[i] <= 57) {
                s.append(Character(UnicodeScalar(bytes[i])))
                i += 1
            }
            guard let v = Int64(s) else { return nil }
            return (v, i)
        }
        guard let (seq, i1) = int(after: "{\"seq\":", from: 0), let (last, i2) = int(after: ",\"last\":", from: i1) else { return nil }
        let rest = bytes[i2...]
        let kind: Kind
        let label: [UInt8]
        if rest.starts(with: Array(",\"events\":".utf8)) {
            kind = .batch
            label = Array(",\"events\":".utf8)
        } else if rest.starts(with: Array(",\"dataflow\":".utf8)) {
            kind = .dataflow
            label = Array(",\"dataflow\":".utf8)
        } else {
            return nil
        }
        guard bytes.last == UInt8(ascii: "}") else { return nil }
        return Record(kind: kind, first: seq, last: last, line: bytes, payloadStart: i2 + label.count, events: 0, values: 0)
    }

    /// The same batch without event `index` (a 4xx named it), or nil when nothing is left.
    func dropping(event index: Int) -> Record? {
        guard var events = eventObjects(), index >= 0, index < events.count else { return nil }
        events.remove(at: index)
        return events.isEmpty ? nil : Record.batch(events, first: first, last: last)
    }

    /// The batch in two halves (the server found it too large).
    func halves() -> [Record]? {
        guard let events = eventObjects(), events.count > 1 else { return nil }
        let mid = events.count / 2
        return [Record.batch(Array(events[..<mid]), first: first, last: first),
                Record.batch(Array(events[mid...]), first: first, last: last)]
    }

    private func eventObjects() -> [Any]? {
        guard kind == .batch else { return nil }
        let payload = Data(line[payloadStart..<(line.count - 1)])
        return (try? JSONSerialization.jsonObject(with: payload)) as? [Any]
    }

    private static func batch(_ events: [Any], first: Int64, last: Int64) -> Record {
        var w = JSONWriter()
        prefix(&w, first: first, last: last, kind: .batch)
        let start = w.bytes.count
        w.bytes.append(contentsOf: (try? JSONSerialization.data(withJSONObject: events)) ?? Data("[]".utf8))
        w.raw("}")
        var values = 0
        for case let e as [String: Any] in events {
            for case let s as [String: Any] in e["sets"] as? [Any] ?? [] {
                for case let row as [Any] in s["elements"] as? [Any] ?? [] { values += row.count }
            }
        }
        return Record(kind: .batch, first: first, last: last, line: w.bytes, payloadStart: start, events: events.count, values: values)
    }
}

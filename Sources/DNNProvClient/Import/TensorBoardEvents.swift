import DNNProvModel
import Foundation

/// Reads the scalars of TensorBoard event files (`events.out.tfevents.*`) without TensorFlow:
/// the TFRecord framing (`TFRecordReader`), then the `Event` and `Summary` protocol buffers
/// decoded by hand. Kept per value: `Event.wall_time` (1), `Event.step` (2), `Event.summary` (5)
/// -> `Summary.value` (1) -> `tag` (1) and `simple_value` (2), or a scalar `tensor` (8) as newer
/// writers emit it (`float_val` 5, `double_val` 6, `int_val` 7, `int64_val` 10, `half_val` 13,
/// or `tensor_content` 4), when its plugin (`metadata` 9 -> `plugin_data` 1 -> `plugin_name` 1,
/// sent with a tag's first value) is `scalars` or not named. Images, histograms, text, graphs
/// and everything else are skipped.
public enum TensorBoardEvents {
    /// One scalar value as logged.
    public struct Scalar: Sendable, Equatable {
        public var tag: String
        public var step: Int64
        public var wallTime: Double
        public var value: Double
        public init(tag: String, step: Int64, wallTime: Double, value: Double) {
            self.tag = tag
            self.step = step
            self.wallTime = wallTime
            self.value = value
        }
    }

    /// The scalars of one event file, its first and last wall times, and the records that could
    /// not be read (named by file and record).
    public struct FileContents: Sendable {
        public var scalars: [Scalar] = []
        public var firstWallTime: Double?
        public var lastWallTime: Double?
        public var warnings: [String] = []
    }

    /// Reads one event file.
    public static func read(file path: String) throws -> FileContents {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImportError("cannot read the event file \(path)")
        }
        return decode([UInt8](data), name: path)
    }

    /// Decodes the bytes of an event file; `name` is used in the warnings.
    public static func decode(_ bytes: [UInt8], name: String) -> FileContents {
        let framed = TFRecordReader.read(bytes, name: name)
        var out = FileContents()
        out.warnings = framed.warnings
        var plugins: [String: String] = [:]
        for (i, record) in framed.records.enumerated() {
            do {
                let event = try decodeEvent(record, plugins: &plugins)
                if let t = event.wallTime {
                    out.firstWallTime = min(out.firstWallTime ?? t, t)
                    out.lastWallTime = max(out.lastWallTime ?? t, t)
                }
                for (tag, value) in event.values {
                    out.scalars.append(Scalar(tag: tag, step: event.step, wallTime: event.wallTime ?? 0, value: value))
                }
            } catch {
                out.warnings.append("\(name): record \(i) is not a readable Event (\(error.description)); skipped")
            }
        }
        return out
    }

    /// One `Event`: its wall time, step and scalar values. `plugins` remembers each tag's plugin
    /// (writers name it with the first value only).
    static func decodeEvent(_ bytes: [UInt8], plugins: inout [String: String]) throws(ImportError) -> (wallTime: Double?, step: Int64, values: [(String, Double)]) {
        var r = ProtoReader(bytes[...])
        var wallTime: Double?
        var step: Int64 = 0
        var values: [(String, Double)] = []
        while let (field, wire) = try r.next() {
            switch (field, wire) {
            case (1, 1): wallTime = Double(bitPattern: try r.fixed64())
            case (2, 0): step = Int64(bitPattern: try r.varint())
            case (5, 2):
                var summary = ProtoReader(try r.bytes())
                while let (f, w) = try summary.next() {
                    if f == 1, w == 2 {
                        if let v = try decodeValue(try summary.bytes(), plugins: &plugins) { values.append(v) }
                    } else {
                        try summary.skip(w)
                    }
                }
            default: try r.skip(wire)
            }
        }
        return (wallTime, step, values)
    }

    /// A `Summary.Value` holding a scalar, as (tag, value); nil for anything else.
    static func decodeValue(_ bytes: ArraySlice<UInt8>, plugins: inout [String: String]) throws(ImportError) -> (String, Double)? {
        var r = ProtoReader(bytes)
        var tag = ""
        var simple: Double?
        var tensor: ArraySlice<UInt8>?
        var plugin: String?
        var dataClass: UInt64?
        while let (field, wire) = try r.next() {
            switch (field, wire) {
            case (1, 2): tag = String(decoding: try r.bytes(), as: UTF8.self)
            case (2, 5): simple = Double(Float(bitPattern: try r.fixed32()))
            case (8, 2): tensor = try r.bytes()
            case (9, 2):
                var m = ProtoReader(try r.bytes())
                while let (f, w) = try m.next() {
                    if f == 1, w == 2 {
                        var p = ProtoReader(try m.bytes())
                        while let (pf, pw) = try p.next() {
                            if pf == 1, pw == 2 { plugin = String(decoding: try p.bytes(), as: UTF8.self) } else { try p.skip(pw) }
                        }
                    } else if f == 4, w == 0 {
                        dataClass = try m.varint()
                    } else {
                        try m.skip(w)
                    }
                }
            default: try r.skip(wire)
            }
        }
        if let plugin { plugins[tag] = plugin }
        if let simple { return (tag, simple) }
        guard let tensor else { return nil }
        if let p = plugin ?? plugins[tag], p != "scalars" { return nil }
        if let dataClass, dataClass != 1 { return nil }
        guard let v = try scalar(ofTensor: tensor) else { return nil }
        return (tag, v)
    }

    /// The one value of a `TensorProto` holding a single number; nil otherwise.
    static func scalar(ofTensor bytes: ArraySlice<UInt8>) throws(ImportError) -> Double? {
        var r = ProtoReader(bytes)
        var dtype: UInt64 = 0
        var values: [Double] = []
        var content: ArraySlice<UInt8>?
        var halves: [UInt16] = []
        while let (field, wire) = try r.next() {
            switch (field, wire) {
            case (1, 0): dtype = try r.varint()
            case (4, 2): content = try r.bytes()
            case (5, 5): values.append(Double(Float(bitPattern: try r.fixed32())))
            case (5, 2):
                var p = ProtoReader(try r.bytes())
                while !p.atEnd { values.append(Double(Float(bitPattern: try p.fixed32()))) }
            case (6, 1): values.append(Double(bitPattern: try r.fixed64()))
            case (6, 2):
                var p = ProtoReader(try r.bytes())
                while !p.atEnd { values.append(Double(bitPattern: try p.fixed64())) }
            case (7, 0), (10, 0): values.append(Double(Int64(bitPattern: try r.varint())))
            case (7, 2), (10, 2):
                var p = ProtoReader(try r.bytes())
                while !p.atEnd { values.append(Double(Int64(bitPattern: try p.varint()))) }
            case (13, 0): halves.append(UInt16(truncatingIfNeeded: try r.varint()))
            case (13, 2):
                var p = ProtoReader(try r.bytes())
                while !p.atEnd { halves.append(UInt16(truncatingIfNeeded: try p.varint())) }
            default: try r.skip(wire)
            }
        }
        // half_val holds DT_HALF bits, or DT_BFLOAT16 bits (the upper half of a float).
        values += halves.map { dtype == 14 ? Double(Float(bitPattern: UInt32($0) << 16)) : half($0) }
        if let content, values.isEmpty {
            let b = Array(content)
            func le(_ n: Int) -> UInt64 { (0..<n).reversed().reduce(UInt64(0)) { ($0 << 8) | UInt64(b[$1]) } }
            switch (dtype, b.count) {
            case (1, 4): values = [Double(Float(bitPattern: UInt32(le(4))))]  // DT_FLOAT
            case (2, 8): values = [Double(bitPattern: le(8))]  // DT_DOUBLE
            case (3, 4): values = [Double(Int32(bitPattern: UInt32(le(4))))]  // DT_INT32
            case (9, 8): values = [Double(Int64(bitPattern: le(8)))]  // DT_INT64
            case (19, 2): values = [half(UInt16(le(2)))]  // DT_HALF
            case (14, 2): values = [Double(Float(bitPattern: UInt32(le(2)) << 16))]  // DT_BFLOAT16
            default: return nil
            }
        }
        // DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64, DT_BFLOAT16, DT_HALF (0: not said).
        guard [0, 1, 2, 3, 9, 14, 19].contains(dtype), values.count == 1 else { return nil }
        return values[0]
    }

    /// An IEEE half-precision number from its bits.
    static func half(_ bits: UInt16) -> Double {
        let sign: Double = (bits & 0x8000) != 0 ? -1 : 1
        let exp = Int((bits >> 10) & 0x1f)
        let frac = Double(bits & 0x3ff)
        switch exp {
        case 0: return sign * frac * pow(2, -24)
        case 31: return frac == 0 ? sign * .infinity : .nan
        default: return sign * (1 + frac / 1024) * pow(2, Double(exp - 15))
        }
    }

    /// The runs under `paths` (directories searched recursively, or event files): one run per
    /// directory holding event files, named by that directory relative to the path given (a
    /// directory given itself, or a file given, is named by its directory's last component).
    public static func runs(_ paths: [String]) throws -> (runs: [ImportedRun], warnings: [String]) {
        let fm = FileManager.default
        // run name -> (directory, files)
        var groups: [(name: String, dir: String, files: [String])] = []
        func add(_ name: String, _ dir: String, _ file: String) {
            if let i = groups.firstIndex(where: { $0.dir == dir }) { groups[i].files.append(file) } else { groups.append((name, dir, [file])) }
        }
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw ImportError("\(path): no such file or directory") }
            let standardized = URL(fileURLWithPath: path).standardizedFileURL
            if !isDir.boolValue {
                let dir = standardized.deletingLastPathComponent()
                add(dir.lastPathComponent, dir.path, standardized.path)
                continue
            }
            guard let walker = fm.enumerator(atPath: standardized.path) else { throw ImportError("cannot list the directory \(path)") }
            var found: [String] = []
            while let rel = walker.nextObject() as? String {
                if (rel as NSString).lastPathComponent.contains("tfevents") { found.append(rel) }
            }
            for rel in found.sorted() {
                let relDir = (rel as NSString).deletingLastPathComponent
                let name = relDir.isEmpty ? standardized.lastPathComponent : relDir
                add(name, standardized.appendingPathComponent(relDir).standardizedFileURL.path, standardized.appendingPathComponent(rel).path)
            }
            if found.isEmpty { throw ImportError("\(path): no TensorBoard event files (events.out.tfevents.*) in it") }
        }
        var runs: [ImportedRun] = []
        var warnings: [String] = []
        for g in groups {
            var byStep: [Int64: ImportedRun.MetricRow] = [:]
            var first: Double?
            var last: Double?
            for file in g.files.sorted() {
                let c = try read(file: file)
                warnings += c.warnings
                if let t = c.firstWallTime { first = min(first ?? t, t) }
                if let t = c.lastWallTime { last = max(last ?? t, t) }
                for s in c.scalars {
                    var row = byStep[s.step] ?? ImportedRun.MetricRow(step: s.step, time: nil, values: [:])
                    row.values[s.tag] = s.value
                    row.time = max(row.time ?? s.wallTime, s.wallTime)
                    byStep[s.step] = row
                }
            }
            let rows = byStep.values.sorted { $0.step < $1.step }
            if rows.isEmpty { warnings.append("\(g.dir): no scalars in its event files; imported without metrics") }
            runs.append(ImportedRun(kind: .tensorboard, sourceID: g.name, execution: g.name, location: g.dir,
                                    details: ["event_files": g.files.map { ($0 as NSString).lastPathComponent }.sorted().joined(separator: ",")],
                                    startTime: first, endTime: last, status: .finished, stepIsEpoch: false, rows: rows))
        }
        return (runs, warnings)
    }
}

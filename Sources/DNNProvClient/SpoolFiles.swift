import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One spool file of a Swift or Python client, as `dnnprov spool status` shows it.
public struct SpoolFileInfo: Sendable {
    public enum Client: String, Sendable { case swift, python }

    public var path: String
    public var client: Client
    /// The server the data was for; nil when the file names only its hash and no `.url` file or
    /// known URL matches it.
    public var url: String?
    /// The tag in the file name (FNV-1a for Swift, SHA-1 prefix for Python).
    public var urlHash: String
    public var batches: Int
    public var registrations: Int
    public var events: Int
    /// Lines that cannot be read (a write cut by a crash); skipped by a replay.
    public var unreadable: Int
    public var modified: Date
    /// A live client holds the file's lock: it sends the data itself.
    public var inUse: Bool
}

/// What a replay of some spool files did.
public struct SpoolReplayReport: Sendable {
    /// Files delivered completely (and removed).
    public var filesDelivered = 0
    public var registrations = 0
    /// Events the server stored now, and events it already had (an earlier, interrupted replay).
    public var stored = 0
    public var duplicates = 0
    /// Events the server refused for good (logged in `messages`), as the clients drop them.
    public var dropped = 0
    /// Files skipped because a live client owns them.
    public var skippedInUse = 0
    /// Why the replay stopped early, if it did (the rest is kept for the next replay).
    public var failure: String?
    public var messages: [String] = []
}

/// Reads and replays the spool files of both clients (the Swift client's `Spool`, the Python
/// client's `dnnprov/spool.py`) from outside the process that wrote them.
public enum SpoolFiles {
    /// Where the clients spool by default: `DNNPROV_SPOOL_DIR` or `~/.cache/dnnprov/spool`
    /// (Python) and `$XDG_CACHE_HOME/dnnprov/spool` or `~/.cache/dnnprov/spool` (Swift).
    public static func defaultDirectories() -> [String] {
        let env = ProcessInfo.processInfo.environment
        let python = env["DNNPROV_SPOOL_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/dnnprov/spool")
        var dirs = [python]
        let swift = ClientConfiguration.defaultSpoolDirectory()
        if standardized(swift) != standardized(python) { dirs.append(swift) }
        return dirs
    }

    private static func standardized(_ p: String) -> String { (p as NSString).standardizingPath }

    /// The spool files in `directories`, oldest first. `candidateURLs` name the servers of files
    /// that carry only a hash of their URL (the Python client's).
    public static func scan(directories: [String], candidateURLs: [String] = []) -> [SpoolFileInfo] {
        var out: [SpoolFileInfo] = []
        var seen = Set<String>()
        for dir in directories where seen.insert(standardized(dir)).inserted {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            for name in names.sorted() where name.hasSuffix(".jsonl") {
                let path = (dir as NSString).appendingPathComponent(name)
                guard let info = inspect(path: path, directory: dir, name: name, candidateURLs: candidateURLs) else { continue }
                out.append(info)
            }
        }
        return out.sorted { ($0.modified, $0.path) < ($1.modified, $1.path) }
    }

    private static func inspect(path: String, directory: String, name: String, candidateURLs: [String]) -> SpoolFileInfo? {
        let stem = String(name.dropLast(".jsonl".count))
        let client: SpoolFileInfo.Client
        let hash: String
        if stem.hasPrefix("swift-") {
            let parts = stem.split(separator: "-", maxSplits: 2)
            guard parts.count == 3 else { return nil }
            client = .swift
            hash = String(parts[1])
        } else {
            guard let dash = stem.firstIndex(of: "-") else { return nil }
            client = .python
            hash = String(stem[..<dash])
        }
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        let modified = attrs[.modificationDate] as? Date ?? Date()
        let urlFile = (directory as NSString).appendingPathComponent(client == .swift ? "swift-\(hash).url" : "\(hash).url")
        var url = (try? String(contentsOfFile: urlFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        if url?.isEmpty ?? true {
            url = nil
            for c in candidateURLs {
                var u = c
                while u.hasSuffix("/") { u.removeLast() }
                let h = client == .swift ? Spool.hash(u) : String(SHA1.hex(u).prefix(12))
                if h == hash { url = u; break }
            }
        }
        let records = (try? read(path: path, client: client)) ?? ([], 0)
        var info = SpoolFileInfo(path: path, client: client, url: url, urlHash: hash, batches: 0, registrations: 0, events: 0,
                                 unreadable: records.1, modified: modified, inUse: isLocked(path))
        for r in records.0 {
            switch r.kind {
            case .batch:
                info.batches += 1
                info.events += r.events
            case .dataflow:
                info.registrations += 1
            }
        }
        return info
    }

    /// Whether a live client holds the file's lock.
    private static func isLocked(_ path: String) -> Bool {
        guard FileManager.default.fileExists(atPath: path + ".lock") else { return false }
        let fd = open(path + ".lock", O_RDWR)
        guard fd >= 0 else { return false }
        defer { closeFileDescriptor(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            _ = flock(fd, LOCK_UN)
            return false
        }
        return true
    }

    // MARK: records

    struct Item {
        enum Kind { case batch, dataflow }
        var kind: Kind
        /// The request body.
        var body: [UInt8]
        var events: Int
    }

    /// The records of a file in the order its client would send them, and the count of unreadable lines.
    static func read(path: String, client: SpoolFileInfo.Client) throws -> ([Item], Int) {
        guard let data = FileManager.default.contents(atPath: path) else { throw SpoolError.io("cannot read \(path)") }
        let lines = Array(data).split(separator: UInt8(ascii: "\n")).filter { !$0.allSatisfy { $0 == 32 || $0 == 13 } }
        var bad = 0
        var items: [Item] = []
        switch client {
        case .swift:
            var records: [Record] = []
            for line in lines {
                if let r = Record.parse(line) { records.append(r) } else { bad += 1 }
            }
            records.sort { $0.first < $1.first }
            for r in records {
                switch r.kind {
                case .batch:
                    guard let events = eventCount(Array(r.line[r.payloadStart..<(r.line.count - 1)])) else { bad += 1; continue }
                    items.append(Item(kind: .batch, body: r.line, events: events))
                case .dataflow:
                    items.append(Item(kind: .dataflow, body: Array(r.body), events: 0))
                }
            }
        case .python:
            for line in lines {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                      let kind = object["kind"] as? String else { bad += 1; continue }
                if kind == "batch", let events = object["events"] as? [Any] {
                    if line.contains(subsequence: Array("\"_names\"".utf8)) {
                        // The Python client's rows that name their attributes (`_names`) are sent as `attributes`.
                        let wired = events.map(pythonWire)
                        guard let body = try? JSONSerialization.data(withJSONObject: ["events": wired]) else { bad += 1; continue }
                        items.append(Item(kind: .batch, body: Array(body), events: events.count))
                    } else {
                        // The line itself is a batch body (the server ignores "kind").
                        items.append(Item(kind: .batch, body: Array(line), events: events.count))
                    }
                } else if kind == "dataflow", let spec = object["spec"] {
                    let prefix = Array("{\"kind\":\"dataflow\",\"spec\":".utf8)
                    if line.starts(with: prefix), line.last == UInt8(ascii: "}") {
                        items.append(Item(kind: .dataflow, body: Array(line.dropFirst(prefix.count).dropLast()), events: 0))
                    } else if let body = try? JSONSerialization.data(withJSONObject: spec) {
                        items.append(Item(kind: .dataflow, body: Array(body), events: 0))
                    } else {
                        bad += 1
                    }
                } else {
                    bad += 1
                }
            }
        }
        return (items, bad)
    }

    private static func eventCount(_ payload: [UInt8]) -> Int? {
        (try? JSONSerialization.jsonObject(with: Data(payload)) as? [Any])?.count
    }

    /// `_wire` of the Python client's sender.
    private static func pythonWire(_ event: Any) -> Any {
        guard var e = event as? [String: Any], let sets = e["sets"] as? [Any] else { return event }
        e["sets"] = sets.map { s -> Any in
            guard let set = s as? [String: Any], let names = set["_names"] else { return s }
            var out: [String: Any] = ["attributes": names]
            out["tag"] = set["tag"]
            out["elements"] = set["elements"]
            return out
        }
        return e
    }

    // MARK: replay

    /// Sends `files` (from `scan`) to `url`, or each to the URL it was spooled for when `url` is
    /// nil: for each server, every dataflow registration first (in order), then each file's
    /// batches in order. A file is removed once the server has acknowledged everything in it.
    /// Events carry idempotency keys, so a replay that is interrupted and run again stores each
    /// event once. `token` and `caFile` default to `DNNPROV_TOKEN` and `DNNPROV_CA_FILE`.
    public static func replay(_ files: [SpoolFileInfo], to url: String?, token: String? = nil, caFile: String? = nil,
                              timeout: Duration = .seconds(60)) -> SpoolReplayReport {
        let env = ProcessInfo.processInfo.environment
        let token = token ?? env["DNNPROV_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let caFile = caFile ?? env["DNNPROV_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        var report = SpoolReplayReport()
        var byServer: [(String, [SpoolFileInfo])] = []
        for f in files {
            if f.inUse {
                report.skippedInUse += 1
                report.messages.append("\(f.path): in use by a running client, which sends it itself; skipped")
                continue
            }
            guard let target = url ?? f.url else {
                report.messages.append("\(f.path): the server it was spooled for is unknown (hash \(f.urlHash)); pass --to URL")
                continue
            }
            if let i = byServer.firstIndex(where: { $0.0 == target }) { byServer[i].1.append(f) } else { byServer.append((target, [f])) }
        }
        for (target, group) in byServer {
            let transport = HTTPTransport(url: target, token: token, caFile: caFile, timeout: timeout)
            defer { transport.shutdown() }
            let shown = ServerAccess.redact(target)
            // Lock every file first: a client started meanwhile must not adopt and send it too.
            var locked: [(SpoolFileInfo, Int32, [Item])] = []
            defer { for (_, fd, _) in locked { _ = flock(fd, LOCK_UN); closeFileDescriptor(fd) } }
            for f in group {
                let fd = open(f.path + ".lock", O_RDWR | O_CREAT, 0o644)
                guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                    if fd >= 0 { closeFileDescriptor(fd) }
                    report.skippedInUse += 1
                    report.messages.append("\(f.path): in use by a running client; skipped")
                    continue
                }
                guard let (items, _) = try? read(path: f.path, client: f.client) else {
                    closeFileDescriptor(fd)
                    report.messages.append("\(f.path): cannot be read; skipped")
                    continue
                }
                locked.append((f, fd, items))
            }
            var sender = ReplaySender(transport: transport, server: shown)
            // Registrations first, so that no batch reaches the server before its dataflow.
            for (_, _, items) in locked {
                for item in items where item.kind == .dataflow {
                    if let failure = sender.deliver(item, report: &report) {
                        report.failure = failure
                        return report
                    }
                }
            }
            for (f, _, items) in locked {
                for item in items where item.kind == .batch {
                    if let failure = sender.deliver(item, report: &report) {
                        report.failure = failure
                        return report
                    }
                }
                unlink(f.path)
                unlink(f.path + ".lock")
                report.filesDelivered += 1
            }
        }
        return report
    }
}

/// One replay's deliveries, with the clients' rules: a 413 splits a batch, a refused event is
/// dropped and the rest resent, a busy server is waited for a little, anything else stops.
private struct ReplaySender {
    let transport: HTTPTransport
    let server: String

    /// Nil when the item is done (acknowledged, or refused for good); else why the replay must stop.
    mutating func deliver(_ item: SpoolFiles.Item, report: inout SpoolReplayReport) -> String? {
        var body = item.body
        var attempt = 0
        var events = item.events
        while true {
            let response: TransportResponse
            do {
                response = try transport.post(path: item.kind == .batch ? "/api/v1/batch" : "/api/v1/dataflows", body: body[...])
            } catch {
                return "cannot reach the dnnprov server at \(server): \(Self.reason(error))"
            }
            let answer = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
            let message = answer?["error"] as? String ?? String(decoding: response.body.prefix(300), as: UTF8.self)
            switch response.status {
            case 200..<300:
                if item.kind == .batch {
                    let stored = answer?["stored"] as? Int ?? events
                    report.stored += stored
                    report.duplicates += answer?["duplicates"] as? Int ?? 0
                } else {
                    report.registrations += 1
                }
                return nil
            case 413 where item.kind == .batch:
                guard let list = Self.events(body), list.count > 1 else {
                    report.dropped += events
                    report.messages.append("the server refused a batch of \(events) event(s) as too large (\(message)); dropped")
                    return nil
                }
                let mid = list.count / 2
                for part in [Array(list[..<mid]), Array(list[mid...])] {
                    guard let data = try? JSONSerialization.data(withJSONObject: ["events": part]) else { return "cannot encode a batch" }
                    if let failure = deliver(.init(kind: .batch, body: Array(data), events: part.count), report: &report) { return failure }
                }
                return nil
            case 408, 429, 500...:
                attempt += 1
                guard attempt < 6 else { return "the server at \(server) answered \(response.status) (\(message)); try again later" }
                let wait = min(response.retryAfter?.seconds ?? 0.5 * Double(1 << attempt), 30)
                Thread.sleep(forTimeInterval: wait)
            case 401 where answer?["event"] == nil, 403 where answer?["event"] == nil:
                let hint = response.status == 401 ? "set DNNPROV_TOKEN to a writer token" : "the token's role or dataflows do not allow this"
                return "the server at \(server) refused the data (HTTP \(response.status): \(message)); \(hint)"
            default:
                // Only dnnprov's own refusals (an {"error": ...} body) drop data; anything else
                // (another service on that port, a proxy's 404) keeps the file for a later replay.
                guard answer?["error"] is String else {
                    return "the server at \(server) does not answer like a dnnprov server (HTTP \(response.status)); the spool is kept"
                }
                if item.kind == .batch, let i = answer?["event"] as? Int, var list = Self.events(body), i >= 0, i < list.count {
                    report.dropped += 1
                    report.messages.append("the server refused event \(i) of a batch (HTTP \(response.status): \(message)); dropped it, sent the rest")
                    list.remove(at: i)
                    if list.isEmpty { return nil }
                    guard let data = try? JSONSerialization.data(withJSONObject: ["events": list]) else { return "cannot encode a batch" }
                    body = Array(data)
                    events = list.count
                    continue
                }
                let what = item.kind == .batch ? "a batch of \(events) event(s)" : "a dataflow registration"
                report.dropped += events
                report.messages.append("the server refused \(what) (HTTP \(response.status): \(message)); dropped")
                return nil
            }
        }
    }

    /// A connection error in a few words (NIO's text nests parentheses several deep).
    static func reason(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("Connection refused") { return "connection refused (is it running, on that port?)" }
        if text.contains("connectTimeout") || text.contains("timed out") { return "no answer (timed out)" }
        if text.contains("NXDOMAIN") || text.contains("lookup") || text.contains("Name or service not known") { return "unknown host" }
        return ServerAccess.explain(error)
    }

    static func events(_ body: [UInt8]) -> [Any]? {
        ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["events"] as? [Any]
    }
}

extension Array where Element == UInt8 {
    fileprivate func contains(subsequence s: [UInt8]) -> Bool {
        guard s.count <= count else { return false }
        for i in 0...(count - s.count) where self[i] == s[0] && Array(self[i..<(i + s.count)]) == s { return true }
        return false
    }
}

extension ArraySlice where Element == UInt8 {
    fileprivate func contains(subsequence s: [UInt8]) -> Bool { Array(self).contains(subsequence: s) }
}


/// SHA-1 (the Python client names its spool files by `sha1(url)[:12]`); not for security.
enum SHA1 {
    static func hex(_ s: String) -> String {
        var message = Array(s.utf8)
        let bitLength = UInt64(message.count) * 8
        message.append(0x80)
        while message.count % 64 != 56 { message.append(0) }
        for i in (0..<8).reversed() { message.append(UInt8((bitLength >> (UInt64(i) * 8)) & 0xff)) }
        var h: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
        for chunk in stride(from: 0, to: message.count, by: 64) {
            var w = [UInt32](repeating: 0, count: 80)
            for i in 0..<16 {
                let b = chunk + i * 4
                w[i] = UInt32(message[b]) << 24 | UInt32(message[b + 1]) << 16 | UInt32(message[b + 2]) << 8 | UInt32(message[b + 3])
            }
            for i in 16..<80 {
                let x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
                w[i] = (x << 1) | (x >> 31)
            }
            var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
            for i in 0..<80 {
                let (f, k): (UInt32, UInt32)
                switch i {
                case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
                case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
                case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
                }
                let t = ((a << 5) | (a >> 27)) &+ f &+ e &+ k &+ w[i]
                e = d; d = c; c = (b << 30) | (b >> 2); b = a; a = t
            }
            h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d; h[4] = h[4] &+ e
        }
        return h.map { v in let s = String(v, radix: 16); return String(repeating: "0", count: 8 - s.count) + s }.joined()
    }
}

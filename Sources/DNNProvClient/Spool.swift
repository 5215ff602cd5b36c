import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Undelivered records on disk, replayed in sequence order before anything newer.
///
/// One JSON-lines file per client instance, `swift-<server hash>-<client id>.jsonl` (see `Record`
/// for the line format). Appends are fsync'd before the sender moves on. The owner holds an
/// exclusive `flock` on `<file>.lock` while it lives, so a file whose lock can be taken belongs
/// to a client that is gone: a new client of the same server adopts it (copies its records
/// ahead of its own). Replaying a record twice is harmless: events carry idempotency keys and
/// registering a dataflow again changes nothing.
final class Spool: @unchecked Sendable {
    struct Entry {
        var order: Int64
        var last: Int64
        var offset: Int64
        var length: Int
        var events: Int
        var values: Int
    }

    /// Also taken by a caller that spills the in-memory buffer (see `EventQueue`).
    let lock = NSLock()
    let directory: String
    let path: String
    let serverURL: String
    private let prefix: String
    private var fd: Int32 = -1
    private var lockFD: Int32 = -1
    private var size: Int64 = 0
    /// Sorted by `order`.
    private var entries: [Entry] = []
    private var adoptedOrder = Int64.min / 2
    /// After `close`, appends (capture after the client closed) leave the file unlocked and
    /// closed, for the next client of the server to adopt.
    private var isClosed = false
    private let logger: Logger

    init(directory: String, serverURL: String, clientID: String, logger: Logger) {
        self.directory = directory
        prefix = "swift-\(Self.hash(serverURL))-"
        path = (directory as NSString).appendingPathComponent("\(prefix)\(clientID).jsonl")
        self.serverURL = serverURL
        self.logger = logger
    }

    /// `swift-<server hash>.url` beside the spool files: the URL they were for, so that
    /// `dnnprov spool status|replay` can name it and send them there (the file names hold a hash).
    static func urlFileName(serverURL: String) -> String { "swift-\(hash(serverURL)).url" }

    /// Written once per directory and server (readable by the owner only: the URL may hold a token).
    private func writeURLFile() {
        let file = (directory as NSString).appendingPathComponent(Self.urlFileName(serverURL: serverURL))
        guard !FileManager.default.fileExists(atPath: file) else { return }
        _ = FileManager.default.createFile(atPath: file, contents: Data(serverURL.utf8), attributes: [.posixPermissions: 0o600])
    }

    /// FNV-1a: a stable file-name tag for the server URL.
    static func hash(_ s: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    var isEmpty: Bool {
        lock.lock(); defer { lock.unlock() }
        return entries.isEmpty
    }

    /// Records ever written to this spool (failed deliveries, spilled buffers, adoptions).
    var written: Int {
        lock.lock(); defer { lock.unlock() }
        return _written
    }
    private var _written = 0

    var count: Int {
        lock.lock(); defer { lock.unlock() }
        return entries.count
    }

    // MARK: writing

    private func openIfNeeded() throws {
        guard fd < 0 else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        writeURLFile()
        // Lock before the data file exists, so nobody adopts it while we live.
        if !isClosed {
            lockFD = open(path + ".lock", O_RDWR | O_CREAT, 0o644)
            if lockFD >= 0 { _ = flock(lockFD, LOCK_EX | LOCK_NB) }
        }
        fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw SpoolError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        size = Int64(lseek(fd, 0, SEEK_END))
    }

    /// Appends and fsyncs. Returns false (and logs) when the disk refuses: the caller keeps the data.
    @discardableResult
    func append(_ records: [Record]) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return appendLocked(records)
    }

    /// `append` for a caller that already holds `lock`.
    func appendLocked(_ records: [Record]) -> Bool {
        guard !records.isEmpty else { return true }
        do {
            try openIfNeeded()
            var data: [UInt8] = []
            data.reserveCapacity(records.reduce(0) { $0 + $1.line.count + 1 })
            var newEntries: [Entry] = []
            var offset = size
            for r in records {
                data.append(contentsOf: r.line)
                data.append(UInt8(ascii: "\n"))
                newEntries.append(Entry(order: r.first, last: r.last, offset: offset, length: r.line.count, events: r.events, values: r.values))
                offset += Int64(r.line.count + 1)
            }
            try writeAll(data)
            size = offset
            for e in newEntries { insert(e) }
            _written += records.count
            if isClosed {
                closeFileDescriptor(fd)
                fd = -1
            }
            return true
        } catch {
            logger.error("dnnprov: cannot write the spool \(path): \(error)")
            return false
        }
    }

    private func writeAll(_ data: [UInt8]) throws {
        var written = 0
        try data.withUnsafeBytes { buf in
            while written < buf.count {
                let n = write(fd, buf.baseAddress! + written, buf.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SpoolError.io("write failed: \(String(cString: strerror(errno)))")
                }
                written += n
            }
        }
        guard fsync(fd) == 0 else { throw SpoolError.io("fsync failed: \(String(cString: strerror(errno)))") }
    }

    private func insert(_ e: Entry) {
        if let last = entries.last, last.order > e.order {
            let i = entries.firstIndex { $0.order > e.order } ?? entries.endIndex
            entries.insert(e, at: i)
        } else {
            entries.append(e)
        }
    }

    // MARK: replay

    /// The oldest record, or nil.
    func first() -> (Entry, Record)? {
        lock.lock(); defer { lock.unlock() }
        while let e = entries.first {
            var buf = [UInt8](repeating: 0, count: e.length)
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, e.length, off_t(e.offset)) }
            if n == e.length, var r = Record.parse(buf[...]) {
                r.events = e.events
                r.values = e.values
                return (e, r)
            }
            logger.error("dnnprov: unreadable record at offset \(e.offset) of \(path); skipped")
            removeLocked(e)
        }
        return nil
    }

    /// Forgets a delivered record; the file is emptied once everything is delivered.
    func remove(_ e: Entry) {
        lock.lock(); defer { lock.unlock() }
        removeLocked(e)
    }

    private func removeLocked(_ e: Entry) {
        entries.removeAll { $0.offset == e.offset }
        if entries.isEmpty, fd >= 0 {
            _ = ftruncate(fd, 0)
            size = 0
        }
    }

    /// Closes the file: removed when empty, else left for the next client of this server.
    func close() {
        lock.lock(); defer { lock.unlock() }
        isClosed = true
        guard fd >= 0 else { return }
        closeFileDescriptor(fd)
        fd = -1
        if entries.isEmpty {
            unlink(path)
            unlink(path + ".lock")
        }
        if lockFD >= 0 {
            closeFileDescriptor(lockFD)
            lockFD = -1
        }
    }

    // MARK: adoption

    /// Copies the records of spool files of this server whose owners are gone ahead of ours.
    /// Returns the number of records adopted.
    @discardableResult
    func adoptOrphans() -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        var adopted = 0
        let ownName = (path as NSString).lastPathComponent
        for name in names.sorted() where name.hasPrefix(prefix) && name.hasSuffix(".jsonl") && name != ownName {
            let other = (directory as NSString).appendingPathComponent(name)
            let lfd = open(other + ".lock", O_RDWR | O_CREAT, 0o644)
            guard lfd >= 0 else { continue }
            defer { closeFileDescriptor(lfd) }
            guard flock(lfd, LOCK_EX | LOCK_NB) == 0 else { continue }  // its owner is alive
            guard let data = FileManager.default.contents(atPath: other) else { continue }
            let lines = Array(data).split(separator: UInt8(ascii: "\n"))
            let records = lines.compactMap { Record.parse($0) }.sorted { $0.first < $1.first }.map { r -> Record in
                adoptedOrder += 1
                return r.withPrefix(first: adoptedOrder, last: adoptedOrder)
            }
            if lines.count != records.count {
                logger.warning("dnnprov: \(lines.count - records.count) unreadable line(s) in \(other) were skipped")
            }
            guard append(records) else { continue }
            unlink(other)
            unlink(other + ".lock")
            adopted += records.count
        }
        if adopted > 0 { logger.info("dnnprov: adopted \(adopted) undelivered record(s) from earlier clients") }
        return adopted
    }
}

enum SpoolError: Error, CustomStringConvertible {
    case io(String)
    var description: String {
        switch self { case .io(let m): return m }
    }
}

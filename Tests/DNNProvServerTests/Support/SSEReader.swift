import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a server-sent-events stream over a plain socket, as a browser's EventSource would:
/// the request, then events as they come (URLSession on Linux buffers whole bodies).
final class SSEReader {
    struct Event: Equatable { var id: String?; var name: String; var data: String }

    private let fd: Int32
    private var buffer = Data()
    private(set) var status = 0
    private(set) var headers = ""

    init(port: Int, path: String, headers extra: [String: String] = [:]) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: text/event-stream\r\n"
        for (k, v) in extra { request += "\(k): \(v)\r\n" }
        request += "\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        // Status line and headers.
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let r = buffer.range(of: Data("\r\n\r\n".utf8)) {
                self.headers = String(decoding: buffer[..<r.lowerBound], as: UTF8.self)
                status = Int(self.headers.split(separator: " ").dropFirst().first ?? "") ?? 0
                buffer.removeSubrange(..<r.upperBound)
                return
            }
            try fill(until: deadline)
        }
        throw POSIXError(.ETIMEDOUT)
    }

    deinit { close(fd) }

    private func fill(until deadline: Date) throws {
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        if n > 0 { buffer.append(contentsOf: chunk[0..<n]) } else if n == 0 { throw POSIXError(.ECONNRESET) }
    }

    /// The next event (chunked framing and comments skipped), or nil when none came in `timeout`.
    func next(timeout: TimeInterval = 5) throws -> Event? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let text = String(decoding: buffer, as: UTF8.self)
            var event = Event(id: nil, name: "message", data: "")
            var consumed = 0
            var found = false
            var dataLines: [String] = []
            // By scalars: to Swift's String, "\r\n" (chunked framing) is one character, not a line end.
            for scalars in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
                let line = String(String.UnicodeScalarView(scalars))
                consumed += line.utf8.count + 1
                let l = line.hasSuffix("\r") ? String(line.unicodeScalars.dropLast().map(Character.init)) : line
                if l.isEmpty {
                    if !dataLines.isEmpty { found = true; break }
                    continue
                }
                if l.hasPrefix("id: ") { event.id = String(l.dropFirst(4)) }
                else if l.hasPrefix("event: ") { event.name = String(l.dropFirst(7)) }
                else if l.hasPrefix("data: ") { dataLines.append(String(l.dropFirst(6))) }
                // Comments, `retry:` and chunk-size lines are not event fields.
            }
            if found, consumed <= buffer.count {
                event.data = dataLines.joined(separator: "\n")
                buffer.removeFirst(consumed)
                return event
            }
            guard Date() < deadline else { return nil }
            try fill(until: deadline)
        }
    }

    /// Events until one named `name` arrives (returned with those before it).
    func until(_ name: String, timeout: TimeInterval = 5) throws -> [Event] {
        var seen: [Event] = []
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, let e = try next(timeout: deadline.timeIntervalSinceNow) {
            seen.append(e)
            if e.name == name { return seen }
        }
        return seen
    }
}

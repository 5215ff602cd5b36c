import DNNProvClient
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A `dnnprov serve` subprocess on a free loopback port over a temporary database, with its
/// memory watched from /proc. With `requireTokens`, the server runs with `--require-tokens` and
/// `token` is a writer token made with `dnnprov token create --db` before it starts.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let database: String
    let directory: String
    /// The writer token the clients must send (`--require-tokens`), else nil.
    let token: String?
    var url: String { "http://127.0.0.1:\(port)" }
    private let lock = NSLock()
    private var peakRSS = 0
    private var watching = true

    /// `token`: a token already made (another server on the same database); with
    /// `requireTokens`, the server requires tokens.
    init(binary: String, database: String? = nil, requireTokens: Bool = false, token: String? = nil) throws {
        directory = try scratchDirectory("dnnprov-bench")
        self.database = database ?? (directory as NSString).appendingPathComponent("bench.sqlite")
        self.token = try token ?? (requireTokens ? Self.createToken(binary: binary, database: self.database, role: "writer") : nil)
        let requireTokens = self.token != nil
        port = freeLoopbackPort()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--port", String(port), "--db", self.database, "--log-level", "warning"]
            + (requireTokens ? ["--require-tokens"] : [])
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let watcher = Thread { [self] in
            while isWatching() {
                if let rss = Self.status(pid: process.processIdentifier, field: "VmRSS") {
                    lock.lock(); peakRSS = max(peakRSS, rss); lock.unlock()
                }
                usleep(100_000)
            }
        }
        watcher.start()
    }

    private func isWatching() -> Bool {
        lock.lock(); defer { lock.unlock() }
        return watching
    }

    /// Waits until the server answers.
    func waitUntilReady(timeout: Double = 30) async throws {
        let client = ServerClient(url: url, token: token)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard process.isRunning else { throw BenchError("the server exited (status \(process.terminationStatus))") }
            if (try? await client.dataflows()) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("the server did not answer within \(Int(timeout)) s")
    }

    /// `dnnprov token create --role <role> --db <database>`: the secret it prints.
    static func createToken(binary: String, database: String, role: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["token", "create", "--role", role, "--name", "bench-\(role)", "--db", database]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err  // "created token 1 (writer, ...)": shown only when it fails
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let secret = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard p.terminationStatus == 0, secret.hasPrefix("dnp_") else {
            throw BenchError("dnnprov token create --role \(role) failed (status \(p.terminationStatus)): \(String(decoding: message, as: UTF8.self))")
        }
        return secret
    }

    /// Peak resident memory in KiB: the kernel's high-water mark (VmHWM) and our 100 ms polls.
    func memory() -> (hwm: Int?, polledPeak: Int, current: Int?) {
        lock.lock(); defer { lock.unlock() }
        let pid = process.processIdentifier
        return (Self.status(pid: pid, field: "VmHWM"), peakRSS, Self.status(pid: pid, field: "VmRSS"))
    }

    func stop() {
        lock.lock(); watching = false; lock.unlock()
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat.
    static func cpuSeconds(pid: String) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return .nan }
        // Fields after the command name: state is field 3, utime 14, stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    var cpuSeconds: Double { Self.cpuSeconds(pid: String(process.processIdentifier)) }

    /// A `kB` field of /proc/<pid>/status.
    static func status(pid: Int32, field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" })[1])
        }
        return nil
    }
}

/// A loopback port nobody listens on (bound then released).
func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

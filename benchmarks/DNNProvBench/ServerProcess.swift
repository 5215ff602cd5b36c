import DNNProvClient
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A `dnnprov serve` subprocess on a free loopback port over a temporary database, with its
/// memory watched from /proc.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let database: String
    let directory: String
    var url: String { "http://127.0.0.1:\(port)" }
    private let lock = NSLock()
    private var peakRSS = 0
    private var watching = true

    init(binary: String, database: String? = nil) throws {
        directory = try scratchDirectory("dnnprov-bench")
        self.database = database ?? (directory as NSString).appendingPathComponent("bench.sqlite")
        port = freeLoopbackPort()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--port", String(port), "--db", self.database, "--log-level", "warning"]
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
        let client = ServerClient(url: url)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard process.isRunning else { throw BenchError("the server exited (status \(process.terminationStatus))") }
            if (try? await client.dataflows()) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("the server did not answer within \(Int(timeout)) s")
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

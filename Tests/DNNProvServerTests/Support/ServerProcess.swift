import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// The built `dnnprov` executable, run as a real process.
enum DNNProvBinary {
    static var url: URL {
        // Tests run from the products directory's .xctest bundle; the executable is beside it.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("dnnprov")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug/dnnprov")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `dnnprov args...` to completion.
    static func run(_ args: [String], environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = url
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

/// `dnnprov serve` in a child process on a free port.
final class ServerProcess {
    let process = Process()
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    var pid: Int32 { process.processIdentifier }

    /// Why a server did not come up: it exited (with its status), or it did not answer in time.
    enum StartError: Error, CustomStringConvertible {
        case exited(status: Int32, stderr: String)
        case timeout

        var description: String {
            switch self {
            case .exited(let status, let stderr): return "dnnprov serve exited with status \(status): \(stderr)"
            case .timeout: return "server did not start"
            }
        }
    }

    /// Starts `dnnprov serve --host HOST --port <free> --db DATABASE --log-level warning ARGUMENTS...`
    /// and waits until `GET /health` answers 200 on 127.0.0.1 (a public route, also with tokens on).
    /// With `stderrFile`, the server's standard error goes to that file instead of the test's.
    init(database: String, arguments: [String] = [], host: String = "127.0.0.1", stderrFile: String? = nil) throws {
        port = try Self.freePort()
        process.executableURL = DNNProvBinary.url
        process.arguments = ["serve", "--host", host, "--port", String(port), "--db", database, "--log-level", "warning"] + arguments
        process.standardOutput = FileHandle.nullDevice
        if let stderrFile {
            _ = FileManager.default.createFile(atPath: stderrFile, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: stderrFile)
        }
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if !process.isRunning {
                process.waitUntilExit()
                let text = stderrFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
                throw StartError.exited(status: process.terminationStatus, stderr: text)
            }
            if (try? HTTP.get(url + "/health"))?.status == 200 { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop()
        throw StartError.timeout
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// A blocking HTTP client for process tests (curl would do too, but is not a given).
enum HTTP {
    struct Response { var status: Int; var body: Data }

    static func get(_ url: String) throws -> Response { try send("GET", url, body: nil) }

    static func post(_ url: String, json: Any) throws -> Response {
        try send("POST", url, body: try JSONSerialization.data(withJSONObject: json))
    }

    static func send(_ method: String, _ url: String, body: Data?) throws -> Response {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 10
        let box = ResultBox()
        let sem = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error { box.result = .failure(error) }
            else { box.result = .success(Response(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data ?? Data())) }
            sem.signal()
        }.resume()
        sem.wait()
        return try box.result!.get()
    }

    final class ResultBox: @unchecked Sendable { var result: Result<Response, any Error>? }
}

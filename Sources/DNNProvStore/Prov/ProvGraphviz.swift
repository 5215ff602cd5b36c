import DNNProvModel
import Foundation

/// SVG through Graphviz's `dot` program, when it is installed.
public enum ProvGraphviz {
    /// The most PROV records a drawing may hold: past it `dot` takes minutes and the picture
    /// is unreadable; export `dot` instead, or choose an execution or a task.
    public static let maxRecords = 20_000

    public static var dotPath: String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") + ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"]
        return paths.map { "\($0)/dot" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public static let missing = "SVG needs Graphviz's 'dot' program, which is not installed here (apt-get install graphviz, brew install graphviz); or export format=dot and draw it elsewhere"

    /// Writes the job's DOT to a temporary file, draws it, and returns the SVG file's path (the
    /// caller removes it). Blocking: call it off the async executor.
    public static func svg(_ job: ProvExportJob) throws -> String {
        guard let dot = dotPath else { throw ProvError.unprocessable(missing) }
        let dir = FileManager.default.temporaryDirectory.path
        let base = "\(dir)/dnnprov-prov-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: base + ".dot", contents: nil)
        defer { try? FileManager.default.removeItem(atPath: base + ".dot") }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".dot"))
        let stats = try job.write { chunk in try handle.write(contentsOf: chunk) }
        try handle.close()
        guard stats.records <= maxRecords else {
            throw ProvError.tooLarge("the drawing would hold \(stats.records) PROV records; SVG is drawn up to \(maxRecords): choose an execution or a task, or export format=dot")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: dot)
        p.arguments = ["-Tsvg", "-o", base + ".svg", base + ".dot"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            try? FileManager.default.removeItem(atPath: base + ".svg")
            throw ProvError.unprocessable("Graphviz's dot could not draw the graph (exit \(p.terminationStatus)); export format=dot")
        }
        return base + ".svg"
    }
}

/// Runs blocking work on a thread of its own and awaits it.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        let t = Thread { c.resume(with: Result { try body() }) }
        t.stackSize = 1 << 20
        t.start()
    }
}

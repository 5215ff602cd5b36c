import Foundation

/// Where the web UI's files are. They are plain files (HTML, ES modules, vendored libraries), read
/// on each request, so they are found on disk rather than compiled in: `--ui-dir` or
/// `DNNPROV_UI_DIR` first, then `share/dnnprov/ui` next to the installed binary
/// (`scripts/install` puts them there), then `ui/` of the source tree the binary was built from.
public struct UIFiles: Sendable {
    /// The folder holding `index.html`, or nil when none was found.
    public let root: String?
    /// The folders looked in, in order (said when none holds the UI).
    public let searched: [String]

    public init(configured: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        var candidates: [String] = []
        if let configured { candidates.append(configured) }
        if let fromEnvironment = environment["DNNPROV_UI_DIR"], !fromEnvironment.isEmpty { candidates.append(fromEnvironment) }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent("../share/dnnprov/ui").standardized.path)
        // This file is Sources/DNNProvServer/UI/UIFiles.swift of the checkout that built the binary.
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../ui").standardized.path)
        searched = candidates
        root = candidates.first { FileManager.default.fileExists(atPath: $0 + "/index.html") }
    }

    /// The file at `relative` (slash-separated, from the URL) inside the root, or nil when it is
    /// not a plain file there. Names starting with a dot and `..` never resolve.
    func file(_ relative: String) -> String? {
        guard let root else { return nil }
        let parts = relative.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.isEmpty, !parts.contains(where: { $0.hasPrefix(".") || $0.contains("\\") || $0.contains("\0") }) else { return nil }
        let path = root + "/" + parts.joined(separator: "/")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
        return path
    }

    static let mediaTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
        "css": "text/css; charset=utf-8", "json": "application/json", "svg": "image/svg+xml", "png": "image/png",
        "ico": "image/x-icon", "txt": "text/plain; charset=utf-8", "md": "text/plain; charset=utf-8", "map": "application/json",
    ]

    static func mediaType(of path: String) -> String {
        let ext = path.split(separator: ".").last.map { $0.lowercased() } ?? ""
        return mediaTypes[ext] ?? "application/octet-stream"
    }
}

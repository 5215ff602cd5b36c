import DNNProvModel
import HTTPTypes
import Hummingbird

/// The web UI: `/` is its page, `/ui/...` its scripts, styles and vendored libraries. The files
/// hold no data (the page reads the API, which checks tokens), so they are public. DfAnalyzer's
/// viewer and query-interface addresses lead to the matching views, so old bookmarks work.
struct UIController {
    let files: UIFiles
    let fileIO = FileIO()

    /// The page's own scripts only; no inline script, no other origin (charts draw inline styles).
    static let contentSecurityPolicy =
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/") { _, context in try await serve("index.html", context: context) }
        router.get("/ui/**") { _, context in
            try await serve(context.parameters.getCatchAll().joined(separator: "/"), context: context)
        }
        router.get("/dfview") { _, _ in Response.redirect(to: "/#/") }
        router.get("/dfview/:tag") { _, context in
            Response.redirect(to: "/#/d/\(try Self.pathSegment(context.parameters.require("tag")))/graph")
        }
        router.get("/query_interface/:tag/:id") { _, context in
            Response.redirect(to: "/#/d/\(try Self.pathSegment(context.parameters.require("tag")))/query")
        }
    }

    private func serve(_ relative: String, context: AppRequestContext) async throws -> Response {
        guard files.root != nil else {
            return ErrorAnswer(error: "the web UI's files were not found (looked in \(files.searched.joined(separator: ", "))); "
                + "install with scripts/install or start with --ui-dir DIR", event: nil).response(status: .serviceUnavailable)
        }
        guard let path = files.file(relative) else { throw ProvError.notFound("no such file: /ui/\(relative.clipped())") }
        let body = try await fileIO.loadFile(path: path, context: context)
        return Response(status: .ok, headers: [
            .contentType: UIFiles.mediaType(of: path),
            // Revalidate each time: a new version of the server must not run old scripts.
            .cacheControl: "no-cache",
            .contentSecurityPolicy: Self.contentSecurityPolicy,
            .xContentTypeOptions: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "same-origin",
        ], body: body)
    }

    /// A tag as it may appear in the UI's address (names hold letters, digits, `_`, `-`, `.`).
    static func pathSegment(_ tag: String) throws(ProvError) -> String {
        guard let normalized = try? Identifier.normalizeDataflow(tag) else { throw .notFound("unknown dataflow '\(tag.clipped())'") }
        return normalized
    }
}

import DNNProvModel
import DNNProvStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// DfAnalyzer's query language (docs/dfanalyzer.md, "Query language"): a query names source and
/// target datasets, a mapping, projections and selections; the server generates the SQL that
/// joins the datasets along the dataflow's paths and runs it, within the same limits as
/// `POST /api/v1/query` (the caller's scope, the per-client limiter shared with it, the byte
/// budget, a timeout).
///
/// - `POST /api/v1/dataflows/{tag}/dfquery` (reader): body `DfQueryRequest`, answer
///   `DfQueryAnswer` (`{"sql", "result"}`; `"run": false` answers the SQL only).
/// - `POST /query_interface/{tag}/{id}` (reader; also under `/t/{token}/`): DfAnalyzer's route.
///   The query is the form field `message` (`application/x-www-form-urlencoded`, or any body
///   starting `message=`, as DfAnalyzer read it) or the raw body. The answer is what DfAnalyzer's
///   documentation promises, the rows as a CSV file: a header line, `;` between fields, every
///   value in double quotes (`"epoch";"loss"` / `"1";"0.5"`), null as an empty field.
///   `?format=json` (or `Accept: application/json`) answers `DfQueryAnswer`, `?format=sql` only
///   the generated SQL as text. `{id}` is accepted and ignored (DfAnalyzer read it as the
///   dataflow's version; dnnprov queries the dataflow as it stands).
struct DfQueryController {
    let store: ProvStore
    let runner: QueryRunner

    /// The largest query text accepted.
    static let maxBodyBytes = 1 << 20

    /// `readers`: the `/api/v1` reader group. `dfanalyzer`: the groups the DfAnalyzer routes are
    /// mounted on (the root and `/t/:token`, each with the auth middleware).
    func addRoutes(to readers: RouterGroup<AppRequestContext>, dfanalyzer roots: [RouterGroup<AppRequestContext>]) {
        readers.post("dataflows/:tag/dfquery") { request, context in
            let tag = try DataflowController.visibleTag(context)
            let body = try await JSONBody.decode(DfQueryRequest.self, from: request, limit: Self.maxBodyBytes)
            let sql = try store.dfQuerySQL(body.query, dataflow: tag)
            guard body.run else { return try JSONBody.response(DfQueryAnswer(sql: sql, result: nil)) }
            return try await run(sql, dataflow: tag, limit: body.limit, timeoutMs: body.timeoutMs, context: context) {
                try JSONBody.response(DfQueryAnswer(sql: sql, result: $0))
            }
        }
        for root in roots {
            root.group().add(middleware: RequireRoleMiddleware(role: .reader)).post("query_interface/:tag/:id") { request, context in
                try await queryInterface(request, context)
            }
        }
    }

    enum Format: String {
        case csv, json, sql
    }

    func queryInterface(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let tag = try DataflowController.visibleTag(context)
        let body = String(decoding: try await JSONBody.bytes(request, limit: Self.maxBodyBytes), as: UTF8.self)
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        var fields: [String: String] = [:]
        let text: String
        if contentType.hasPrefix("application/x-www-form-urlencoded") || body.hasPrefix("message=") {
            fields = Self.formFields(body)
            guard let message = fields["message"] else {
                throw ProvError.badRequest("the form has no field 'message' (the query, e.g. message=source(itrainingmodel)...)")
            }
            text = message
        } else {
            text = body
        }
        let query = request.uri.queryParameters
        let formatName = query.get("format") ?? fields["format"]
        let format: Format
        if let formatName {
            guard let f = Format(rawValue: formatName.lowercased()) else {
                throw ProvError.badRequest("format must be csv, json or sql, not '\(formatName.clipped(to: 40))'")
            }
            format = f
        } else {
            let accept = request.headers[.accept]?.split(separator: ",").first?.split(separator: ";").first
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            format = accept == "application/json" ? .json : .csv
        }
        var limit: Int?
        if let raw = query.get("limit") ?? fields["limit"] {
            guard let n = Int(raw) else { throw ProvError.badRequest("limit must be an integer, not '\(raw.clipped(to: 40))'") }
            limit = n
        }

        let sql = try store.dfQuerySQL(text, dataflow: tag)
        switch format {
        case .sql:
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: sql + "\n")))
        case .json:
            return try await run(sql, dataflow: tag, limit: limit, timeoutMs: nil, context: context) {
                try JSONBody.response(DfQueryAnswer(sql: sql, result: $0))
            }
        case .csv:
            return try await run(sql, dataflow: tag, limit: limit, timeoutMs: nil, context: context) { result in
                var headers: HTTPFields = [.contentType: "text/csv; charset=utf-8"]
                if result.truncated, let name = HTTPField.Name("X-Result-Truncated") {
                    headers[name] = (result.limit ?? .rows).rawValue
                }
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: Self.csv(result))))
            }
        }
    }

    func run(_ sql: String, dataflow: String, limit: Int?, timeoutMs: Int?, context: AppRequestContext,
             answer: @Sendable @escaping (QueryResult) throws -> Response) async throws -> Response {
        try await runner.run(sql, dataflow: dataflow, limit: limit, timeoutMs: timeoutMs, context: context, answer: answer)
    }

    /// The fields of an `application/x-www-form-urlencoded` body. Lenient as DfAnalyzer's
    /// scripts need: a `%` that starts no escape (`like 'adam%'` sent unencoded) stays as it is.
    static func formFields(_ body: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decode(kv[0])
            if out[key] == nil { out[key] = kv.count > 1 ? decode(kv[1]) : "" }
        }
        return out
    }

    static func decode(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 65...70: return c - 55
            case 97...102: return c - 87
            default: return nil
            }
        }
        while i < b.count {
            if b[i] == UInt8(ascii: "+") {
                bytes.append(32)
            } else if b[i] == UInt8(ascii: "%"), i + 2 < b.count, let h = hex(b[i + 1]), let l = hex(b[i + 2]) {
                bytes.append(h << 4 | l)
                i += 2
            } else {
                bytes.append(b[i])
            }
            i += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// DfAnalyzer's CSV: a header line, `;` between fields, values in double quotes (a quote
    /// doubled), null as an empty field.
    static func csv(_ r: QueryResult) -> String {
        func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        var out = r.columns.map { quoted($0.name) }.joined(separator: ";") + "\n"
        for row in r.rows {
            out += row.map { $0 == .null ? "" : quoted($0.display) }.joined(separator: ";") + "\n"
        }
        return out
    }
}

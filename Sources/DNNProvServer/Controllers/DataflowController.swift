import DNNProvModel
import DNNProvStore
import Hummingbird

/// `/api/v1/dataflows`: register dataflows (writers) and list what is stored (readers, each
/// seeing only the dataflows of its scope).
struct DataflowController {
    let store: ProvStore
    let limits: Limits

    /// `writers` and `readers`: the groups of write and read routes (role middleware on them).
    func addRoutes(writers: RouterGroup<AppRequestContext>, readers: RouterGroup<AppRequestContext>) {
        writers.post("dataflows") { request, context in
            let spec = try await JSONBody.decode(DataflowSpec.self, from: request, limit: limits.maxBodyBytes)
            try context.requirePrincipal().requireWritable(spec.tag)
            try limits.check(spec)
            let result = try await store.register(spec)
            return try JSONBody.response(result, status: result.changed && result.version == 1 ? .created : .ok)
        }
        let group = readers.group("dataflows")
        group.get { _, context in
            let scope = try context.requirePrincipal().scope
            return try JSONBody.response(try await store.dataflows().filter { scope.contains($0.tag) })
        }
        group.get(":tag") { _, context in
            try JSONBody.response(try store.specification(of: Self.visibleTag(context)))
        }
        group.get(":tag/sets") { _, context in
            try JSONBody.response(try store.sets(of: Self.visibleTag(context)))
        }
        group.get(":tag/executions") { _, context in
            try JSONBody.response(try await store.executions(of: Self.visibleTag(context)))
        }
        group.get(":tag/tasks") { request, context in
            let execution = request.uri.queryParameters.get("execution")
            return try JSONBody.response(try await store.tasks(of: Self.visibleTag(context), execution: execution))
        }
        group.get(":tag/sets/:set/rows") { request, context in
            let q = request.uri.queryParameters
            let filter = RowsFilter(
                execution: q.get("execution"),
                task: try Self.integer(q.get("task"), "task"),
                after: try Self.integer(q.get("after"), "after"),
                limit: try Self.integer(q.get("limit"), "limit", in: 1...100_000) ?? 1000,
                offset: try Self.integer(q.get("offset"), "offset", in: 0...Int64(Int32.max)) ?? 0)
            let rows = try await store.rows(of: Self.visibleTag(context), set: context.parameters.require("set"), filter: filter)
            return try JSONBody.response(rows)
        }
    }

    /// The `{tag}` of the path, refused as unknown when out of the caller's scope.
    static func visibleTag(_ context: AppRequestContext) throws -> String {
        let tag = try context.parameters.require("tag")
        try context.requirePrincipal().requireVisible(tag)
        return tag
    }

    static func integer(_ raw: String?, _ name: String) throws(ProvError) -> Int64? {
        guard let raw else { return nil }
        guard let v = Int64(raw) else { throw .badRequest("query parameter '\(name)' must be an integer, not '\(raw.clipped())'") }
        return v
    }

    static func integer(_ raw: String?, _ name: String, in range: ClosedRange<Int64>) throws(ProvError) -> Int? {
        guard let v = try integer(raw, name) else { return nil }
        guard range.contains(v) else { throw .badRequest("query parameter '\(name)' must be between \(range.lowerBound) and \(range.upperBound)") }
        return Int(v)
    }
}

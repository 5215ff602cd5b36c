import DNNProvModel
import DNNProvStore
import Hummingbird

/// `/api/v1/dataflows`: register dataflows and list what is stored.
struct DataflowController {
    let store: ProvStore

    func addRoutes(to router: Router<AppRequestContext>) {
        let group = router.group("/api/v1/dataflows")
        group.post { request, context in
            let spec = try await JSONBody.decode(DataflowSpec.self, from: request, context: context)
            let result = try await store.register(spec)
            return try JSONBody.response(result, status: result.changed && result.version == 1 ? .created : .ok)
        }
        group.get { _, _ in try JSONBody.response(try await store.dataflows()) }
        group.get(":tag") { _, context in
            try JSONBody.response(try store.specification(of: context.parameters.require("tag")))
        }
        group.get(":tag/sets") { _, context in
            try JSONBody.response(try store.sets(of: context.parameters.require("tag")))
        }
        group.get(":tag/executions") { _, context in
            try JSONBody.response(try await store.executions(of: context.parameters.require("tag")))
        }
        group.get(":tag/tasks") { request, context in
            let execution = request.uri.queryParameters.get("execution")
            return try JSONBody.response(try await store.tasks(of: context.parameters.require("tag"), execution: execution))
        }
        group.get(":tag/sets/:set/rows") { request, context in
            let q = request.uri.queryParameters
            let filter = RowsFilter(
                execution: q.get("execution"),
                task: try Self.integer(q.get("task"), "task"),
                after: try Self.integer(q.get("after"), "after"),
                limit: Int(try Self.integer(q.get("limit"), "limit") ?? 1000),
                offset: Int(try Self.integer(q.get("offset"), "offset") ?? 0))
            let rows = try await store.rows(of: context.parameters.require("tag"), set: context.parameters.require("set"), filter: filter)
            return try JSONBody.response(rows)
        }
    }

    static func integer(_ raw: String?, _ name: String) throws(ProvError) -> Int64? {
        guard let raw else { return nil }
        guard let v = Int64(raw) else { throw .badRequest("query parameter '\(name)' must be an integer, not '\(raw)'") }
        return v
    }
}

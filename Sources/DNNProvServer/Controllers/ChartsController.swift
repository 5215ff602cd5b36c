import DNNProvModel
import DNNProvStore
import Hummingbird

/// `/api/v1/charts`: the dashboards' charts. Reading them is for readers; saving and deleting
/// them is a write (writers).
struct ChartsController {
    let store: ProvStore

    func addRoutes(readers: RouterGroup<AppRequestContext>, writers: RouterGroup<AppRequestContext>) {
        readers.get("charts") { request, context in
            guard let tag = request.uri.queryParameters.get("dataflow") else {
                throw ProvError.badRequest("name the dataflow: /api/v1/charts?dataflow=TAG")
            }
            try context.requirePrincipal().requireVisible(tag)
            return try JSONBody.response(try await store.charts(of: tag))
        }
        writers.post("charts") { request, context in
            let chart = try await JSONBody.decode(ChartRequest.self, from: request, limit: ChartRequest.maxSQLBytes + 16_384)
            try context.requirePrincipal().requireWritable(chart.dataflow)
            return try JSONBody.response(try await store.saveChart(chart), status: .created)
        }
        writers.delete("charts/:id") { _, context in
            let scope = try context.requirePrincipal().scope
            return try JSONBody.response(try await store.deleteChart(id: context.parameters.require("id"), scope: scope))
        }
    }
}

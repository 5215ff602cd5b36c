import DNNProvModel
import DNNProvStore
import Foundation
import Hummingbird
import Logging

/// The DfAnalyzer endpoints, so existing DfAnalyzer, DNNProv, Keras-Prov and DLProv scripts work
/// unchanged (docs/dfanalyzer.md). Unlike DfAnalyzer, the answer comes after the commit, and
/// errors are answered as errors.
struct DfAnalyzerController {
    let store: ProvStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("/pde/dataflow/json") { request, context in
            let spec = try await JSONBody.decode(DataflowSpec.self, from: request, context: context)
            return try JSONBody.response(try await store.register(spec, fromDfAnalyzer: true))
        }
        router.post("/pde/dataflow") { request, context in
            let spec = try DfaTextFormat.dataflow(try await Self.text(request, context))
            return try JSONBody.response(try await store.register(spec, fromDfAnalyzer: true))
        }
        router.post("/pde/task/json") { request, context in
            let message = try await JSONBody.decode(DfaTaskMessage.self, from: request, context: context)
            return try await ingest(message.event, context: context)
        }
        router.post("/pde/task") { request, context in
            try await ingest(try DfaTextFormat.task(try await Self.text(request, context)), context: context)
        }
        router.get("/api/dataflows/list") { _, _ in
            try JSONBody.response(try await store.dataflows().map { ListedDataflow(id: $0.id, tag: $0.tag) })
        }
        router.get("/api/dataflows/:id") { _, context in
            try JSONBody.response(try graph(context.parameters.require("id")))
        }
    }

    private func ingest(_ event: TaskEvent, context: AppRequestContext) async throws -> Response {
        let result = try await store.ingest([event], options: .dfanalyzer, tagIndexes: false)
        for w in result.warnings { context.logger.warning("\(w)") }
        return try JSONBody.response(result)
    }

    static func text(_ request: Request, _ context: AppRequestContext) async throws -> String {
        String(decoding: try await JSONBody.bytes(request, context: context), as: UTF8.self)
    }

    struct ListedDataflow: Encodable {
        var id: Int64
        var tag: String
    }

    /// The viewer's graph: sets are nodes, each transformation an edge from each of its
    /// inputs to each of its outputs.
    struct Graph: Encodable {
        struct Node: Encodable { var id: Int64; var label: String; var shape = "box"; var title: String }
        struct Edge: Encodable { var from: Int64; var to: Int64; var arrows = "to"; var label: String }
        struct Attr: Encodable { var name: String; var type: String }
        struct SetAttrs: Encodable { var name: String; var atts: [Attr] }
        struct Body: Encodable { var nodes: [Node]; var edges: [Edge] }
        var graph: Body
        var allAttrsMap: [String: SetAttrs]
    }

    func graph(_ idOrTag: String) throws -> Graph {
        let df = try store.dataflowIdentity(idOrTag)
        let sets = try store.sets(of: df.tag)
        let ids = Dictionary(uniqueKeysWithValues: sets.map { ($0.tag, $0.id) })
        var edges: [Graph.Edge] = []
        for t in try store.transformations(of: df.tag) {
            for i in t.inputs { for o in t.outputs { edges.append(.init(from: ids[i]!, to: ids[o]!, label: t.tag)) } }
        }
        return Graph(
            graph: .init(
                nodes: sets.map { .init(id: $0.id, label: $0.tag, title: "(" + $0.attributes.map(\.name).joined(separator: ",") + ")") },
                edges: edges),
            allAttrsMap: Dictionary(uniqueKeysWithValues: sets.map {
                (String($0.id), Graph.SetAttrs(name: $0.tag, atts: $0.attributes.map { .init(name: $0.name, type: $0.type.rawValue) }))
            }))
    }
}

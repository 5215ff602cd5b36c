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
    let limits: Limits
    let gate: AdmissionGate
    let reporter: IngestReporter?

    /// Mounted twice: at the root (auth off, or a header or `?token=`) and under `/t/{token}/`
    /// for old clients that can only be given a URL. Old clients never read answers: a busy
    /// server makes their writes wait rather than refusing them.
    func addRoutes(to root: RouterGroup<AppRequestContext>) {
        let writers = root.group().add(middleware: RequireRoleMiddleware(role: .writer))
            .add(middleware: AdmissionMiddleware(gate: gate, waitIfFull: true))
        writers.post("pde/dataflow/json") { request, context in
            try await register(try await JSONBody.decode(DataflowSpec.self, from: request, limit: limits.maxBodyBytes), context)
        }
        writers.post("pde/dataflow") { request, context in
            try await register(try DfaTextFormat.dataflow(try await text(request)), context)
        }
        writers.post("pde/task/json") { request, context in
            try await ingest(try await JSONBody.decode(DfaTaskMessage.self, from: request, limit: limits.maxBodyBytes).event, context: context)
        }
        writers.post("pde/task") { request, context in
            try await ingest(try DfaTextFormat.task(try await text(request)), context: context)
        }
        let readers = root.group().add(middleware: RequireRoleMiddleware(role: .reader))
        readers.get("api/dataflows/list") { _, context in
            let scope = try context.requirePrincipal().scope
            return try JSONBody.response(try await store.dataflows().filter { scope.contains($0.tag) }.map { ListedDataflow(id: $0.id, tag: $0.tag) })
        }
        readers.get("api/dataflows/:id") { _, context in
            let id = try context.parameters.require("id")
            // Unknown and out of scope answer alike, naming only what was asked for.
            guard let df = try? store.dataflowIdentity(id), try context.requirePrincipal().scope.contains(df.tag) else {
                throw ProvError.notFound("no dataflow '\(id.clipped())'")
            }
            return try JSONBody.response(try graph(df.tag))
        }
    }

    private func register(_ spec: DataflowSpec, _ context: AppRequestContext) async throws -> Response {
        try context.requirePrincipal().requireWritable(spec.tag)
        try limits.check(spec)
        return try JSONBody.response(try await store.register(spec, fromDfAnalyzer: true))
    }

    private func ingest(_ event: TaskEvent, context: AppRequestContext) async throws -> Response {
        try context.requirePrincipal().requireWritable(event.dataflow)
        try limits.check([event])
        let result = try await store.ingest([event], options: .dfanalyzer, tagIndexes: false)
        reporter?.record(result, dataflows: [event.dataflow])
        for w in result.warnings { context.logger.warning("\(w)") }
        return try JSONBody.response(result)
    }

    private func text(_ request: Request) async throws -> String {
        String(decoding: try await JSONBody.bytes(request, limit: limits.maxBodyBytes), as: UTF8.self)
    }

    struct ListedDataflow: Encodable {
        var id: Int64
        var tag: String
    }

    /// The viewer's graph: sets are nodes, each transformation an edge from each of its
    /// inputs to each of its outputs.
    struct Graph: Encodable {
        /// `color`: input datasets (consumed, produced by no transformation) stand apart, as in
        /// DfAnalyzer's viewer; the others take the viewer's default.
        struct Node: Encodable { var id: Int64; var label: String; var shape = "box"; var title: String; var color: String? }
        struct Edge: Encodable { var from: Int64; var to: Int64; var arrows = "to"; var label: String }
        struct Attr: Encodable { var name: String; var type: String }
        struct SetAttrs: Encodable { var name: String; var atts: [Attr] }
        struct Body: Encodable { var nodes: [Node]; var edges: [Edge] }
        var graph: Body
        var allAttrsMap: [String: SetAttrs]

        static let inputColor = "#7BE141"
    }

    func graph(_ tag: String) throws -> Graph {
        let sets = try store.sets(of: tag)
        let ids = Dictionary(uniqueKeysWithValues: sets.map { ($0.tag, $0.id) })
        var edges: [Graph.Edge] = []
        for t in try store.transformations(of: tag) {
            for i in t.inputs.compactMap({ ids[$0] }) {
                for o in t.outputs.compactMap({ ids[$0] }) { edges.append(.init(from: i, to: o, label: t.tag)) }
            }
        }
        return Graph(
            graph: .init(
                nodes: sets.map {
                    .init(id: $0.id, label: $0.tag, title: "(" + $0.attributes.map(\.name).joined(separator: ",") + ")",
                          color: $0.producers.isEmpty ? Graph.inputColor : nil)
                },
                edges: edges),
            allAttrsMap: Dictionary(uniqueKeysWithValues: sets.map {
                (String($0.id), Graph.SetAttrs(name: $0.tag, atts: $0.attributes.map { .init(name: $0.name, type: $0.type.rawValue) }))
            }))
    }
}

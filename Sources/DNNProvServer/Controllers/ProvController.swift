import DNNProvModel
import DNNProvStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// W3C PROV: export of a dataflow, an execution or a task (PROV-JSON, PROV-N, PROV-O Turtle,
/// Graphviz DOT, SVG), streamed in bounded memory; lineage of one element; import of PROV-JSON
/// documents through the store's normal write path (docs/prov-mapping.md).
struct ProvController {
    let store: ProvStore
    let limits: Limits

    func addRoutes(readers: RouterGroup<AppRequestContext>, writers: RouterGroup<AppRequestContext>) {
        readers.get("dataflows/:tag/prov") { request, context in
            let tag = try DataflowController.visibleTag(context)
            let q = request.uri.queryParameters
            let format = try ProvFormat.parse(q.get("format"))
            let execution = q.get("execution").flatMap { $0.isEmpty ? nil : $0 }
            let task = try DataflowController.integer(q.get("task").flatMap { $0.isEmpty ? nil : $0 }, "task")
            let job = try await store.provExport(tag, scope: ProvScope(execution: execution, task: task), format: format)
            var headers: HTTPFields = [.contentType: format.mediaType]
            headers[.contentDisposition] = "inline; filename=\"\(Identifier.sqlSafe(tag))-prov.\(format.fileExtension)\""
            if format == .svg {
                let path = try await onOwnThread { try ProvGraphviz.svg(job) }
                return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                    defer { try? FileManager.default.removeItem(atPath: path) }
                    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
                    defer { try? handle.close() }
                    while let data = try handle.read(upToCount: 64 << 10), !data.isEmpty {
                        try await writer.write(ByteBuffer(bytes: Array(data)))
                    }
                    try await writer.finish(nil)
                })
            }
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                for try await chunk in job.chunks() {
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                try await writer.finish(nil)
            })
        }
        readers.get("dataflows/:tag/lineage") { request, context in
            let tag = try DataflowController.visibleTag(context)
            let q = request.uri.queryParameters
            guard let set = q.get("set"), !set.isEmpty else {
                throw ProvError.badRequest("lineage needs 'set' (the element's set) and 'id' (its row id)")
            }
            guard let id = try DataflowController.integer(q.get("id"), "id") else {
                throw ProvError.badRequest("lineage needs 'id' (the row id of the element in set '\(set.clipped())')")
            }
            let direction = try LineageDirection.parse(q.get("direction"))
            let depth = try DataflowController.integer(q.get("depth"), "depth", in: 0...Int64(ProvStore.lineageMaxDepth)) ?? 10
            return try JSONBody.response(try await store.lineage(of: tag, set: set, row: id, direction: direction, depth: depth))
        }
        writers.post("prov") { request, context in
            let principal = try context.requirePrincipal()
            let data = try await JSONBody.bytes(request, limit: limits.maxBodyBytes)
            guard !data.isEmpty else { throw ProvError.badRequest("the request body is empty; expected a PROV-JSON document") }
            let dataflow = request.uri.queryParameters.get("dataflow").flatMap { $0.isEmpty ? nil : $0 }
            let limits = self.limits
            let result = try await store.importProv(data, dataflow: dataflow,
                                                    maxEventsPerBatch: min(1000, limits.maxEventsPerRequest),
                                                    maxRowsPerBatch: min(100_000, limits.maxRowsPerRequest)) { spec, events in
                try principal.requireWritable(spec.tag)
                if events.isEmpty { try limits.check(spec) } else { try limits.check(events) }
            }
            return try JSONBody.response(result, status: .created)
        }
    }
}

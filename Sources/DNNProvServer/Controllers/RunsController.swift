import DNNProvModel
import DNNProvStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// What the UI's runs table, charts and live updates read: per-run summaries kept at
/// ingestion, series of a set's attributes (downsampled on the server), and the live stream of
/// each commit's changes as server-sent events.
struct RunsController {
    let store: ProvStore
    /// Seconds without news after which a running run is stale.
    let staleAfter: Double

    func addRoutes(to readers: RouterGroup<AppRequestContext>) {
        let group = readers.group("dataflows")
        group.get(":tag/runs") { request, context in
            let tag = try DataflowController.visibleTag(context)
            // The page subscribes next, from this answer's seq: events are made from now on.
            store.feed.watch(dataflowID: try await store.currentDataflowIdentity(tag).id)
            let json = try await store.runsJSON(of: tag, staleAfter: staleAfter)
            var headers: HTTPFields = [.contentType: "application/json", .vary: "Accept-Encoding"]
            // Not on loopback: there sending 16 MB takes less than compressing it (a local proxy compresses itself).
            let remote = !(context.remoteAddress.map(ServerConfiguration.isLoopback) ?? true)
            if remote, json.count >= Gzip.threshold, Gzip.accepted(request.headers[.acceptEncoding]), let gzipped = Gzip.compress(json) {
                headers[.contentEncoding] = "gzip"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: gzipped)))
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json)))
        }
        group.get(":tag/series") { request, context in
            let q = request.uri.queryParameters
            guard let set = q.get("set"), let y = q.get("y") else {
                throw ProvError.badRequest("series need 'set' and 'y' (attributes, comma-separated) and 'runs' (run ids, comma-separated)")
            }
            let runs = try Self.list(q.get("runs") ?? "", "runs").map { raw throws(ProvError) -> Int64 in
                guard let id = Int64(raw) else { throw .badRequest("'runs' holds run ids (integers), not '\(raw.clipped())'") }
                return id
            }
            let from = try Self.number(q.get("from"), "from"), to = try Self.number(q.get("to"), "to")
            if let from, let to, from > to { throw ProvError.badRequest("'from' (\(from)) is after 'to' (\(to))") }
            let range: ClosedRange<Double>? = from == nil && to == nil ? nil : (from ?? -.infinity)...(to ?? .infinity)
            let request = SeriesRequest(
                set: set, y: try Self.list(y, "y"), x: q.get("x").flatMap { $0.isEmpty ? nil : $0 }, runs: runs,
                points: try DataflowController.integer(q.get("points"), "points",
                                                       in: Int64(SeriesRequest.pointRange.lowerBound)...Int64(SeriesRequest.pointRange.upperBound)) ?? 2000,
                range: range)
            let tag = try DataflowController.visibleTag(context)
            store.feed.watch(dataflowID: try await store.currentDataflowIdentity(tag).id)
            return try JSONBody.response(try await store.series(of: tag, request))
        }
        group.get(":tag/live") { request, context in
            let tag = try DataflowController.visibleTag(context)
            let dataflow = try await store.currentDataflowIdentity(tag)
            // EventSource sends the last id it saw when it reconnects; `since` is for the first connection.
            let since = try DataflowController.integer(request.headers[HTTPField.Name("Last-Event-ID")!] ?? request.uri.queryParameters.get("since"), "since")
            let subscription = try store.feed.subscribe(dataflowID: dataflow.id, since: since)
            return Response(status: .ok, headers: [
                .contentType: "text/event-stream", .cacheControl: "no-cache",
                // Proxies (nginx) must pass events on as they come.
                HTTPField.Name("X-Accel-Buffering")!: "no",
            ], body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "retry: 1000\n: dnnprov live stream of \(dataflow.tag)\n\n"))
                // Ends when the server shuts down: an open browser tab must not hold the shutdown.
                try await withGracefulShutdownHandler {
                    for await item in subscription.items {
                        switch item {
                        case .event(let e):
                            try await writer.write(ByteBuffer(string: "id: \(e.seq)\nevent: \(e.kind.rawValue)\ndata: \(e.data)\n\n"))
                        case .keepAlive:
                            try await writer.write(ByteBuffer(string: ": ping\n\n"))
                        }
                    }
                } onGracefulShutdown: {
                    subscription.end()
                }
                try await writer.finish(nil)
            })
        }
    }

    static func number(_ raw: String?, _ name: String) throws(ProvError) -> Double? {
        guard let raw else { return nil }
        guard let v = Double(raw), v.isFinite else { throw .badRequest("query parameter '\(name)' must be a finite number, not '\(raw.clipped())'") }
        return v
    }

    static func list(_ raw: String, _ name: String) throws(ProvError) -> [String] {
        let items = raw.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw .badRequest("query parameter '\(name)' must name at least one item (comma-separated)") }
        return items
    }
}

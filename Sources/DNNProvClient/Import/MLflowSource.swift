import AsyncHTTPClient
import DNNProvModel
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Reads runs from an MLflow tracking server through its REST API (no MLflow client needed):
/// `POST /api/2.0/mlflow/experiments/search` (paged), `POST /api/2.0/mlflow/runs/search` per
/// experiment (paged, active runs), and `GET /api/2.0/mlflow/metrics/get-history` per metric
/// (paged). Each run becomes an `ImportedRun` with its parameters, every metric's history by
/// step (values logged at the same step form one row; the row's time is the latest of their
/// timestamps), its start and end times, and its status (`FINISHED`; `FAILED` and `KILLED` as
/// FAILED; `RUNNING` and `SCHEDULED` as RUNNING).
public struct MLflowSource: Sendable {
    /// The tracking server, e.g. `http://localhost:5000` (no trailing slash).
    public let trackingURI: String
    let http: HTTPClient

    public init(trackingURI: String, httpClient: HTTPClient = ServerClient.defaultHTTPClient) {
        var uri = trackingURI
        while uri.hasSuffix("/") { uri.removeLast() }
        self.trackingURI = uri
        http = httpClient
    }

    /// One experiment: its id and name.
    public struct Experiment: Sendable, Equatable {
        public var id: String
        public var name: String
    }

    /// Every experiment of the server (active ones, as MLflow lists them by default).
    public func experiments() async throws -> [Experiment] {
        var out: [Experiment] = []
        var token: String?
        repeat {
            var body: [String: Any] = ["max_results": 1000]
            if let token { body["page_token"] = token }
            let answer = try await call("POST", "/api/2.0/mlflow/experiments/search", body: body)
            for e in answer["experiments"] as? [[String: Any]] ?? [] {
                out.append(Experiment(id: Self.string(e["experiment_id"]) ?? "", name: Self.string(e["name"]) ?? ""))
            }
            token = Self.string(answer["next_page_token"]).flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return out
    }

    /// The runs of the experiments named by `selectors` (names or ids; all when empty).
    public func runs(experiments selectors: [String]) async throws -> [ImportedRun] {
        let all = try await experiments()
        var chosen: [Experiment] = []
        for s in selectors {
            guard let e = all.first(where: { $0.id == s }) ?? all.first(where: { $0.name == s }) else {
                throw ImportError("MLflow at \(trackingURI) has no experiment named or numbered '\(s)' (it has: \(all.map { "\($0.name) (\($0.id))" }.joined(separator: ", ")))")
            }
            if !chosen.contains(e) { chosen.append(e) }
        }
        if selectors.isEmpty { chosen = all }
        var out: [ImportedRun] = []
        for e in chosen {
            var token: String?
            repeat {
                var body: [String: Any] = ["experiment_ids": [e.id], "max_results": 1000]
                if let token { body["page_token"] = token }
                let answer = try await call("POST", "/api/2.0/mlflow/runs/search", body: body)
                for r in answer["runs"] as? [[String: Any]] ?? [] { out.append(try await run(r, experiment: e)) }
                token = Self.string(answer["next_page_token"]).flatMap { $0.isEmpty ? nil : $0 }
            } while token != nil
        }
        return out.sorted { ($0.startTime ?? 0, $0.sourceID) < ($1.startTime ?? 0, $1.sourceID) }
    }

    /// One run of `runs/search`, with its metric histories.
    func run(_ r: [String: Any], experiment: Experiment) async throws -> ImportedRun {
        let info = r["info"] as? [String: Any] ?? [:]
        let data = r["data"] as? [String: Any] ?? [:]
        guard let id = Self.string(info["run_id"]) ?? Self.string(info["run_uuid"]) else {
            throw ImportError("MLflow at \(trackingURI) answered a run without run_id")
        }
        let params = (data["params"] as? [[String: Any]] ?? []).compactMap { p -> (name: String, value: String)? in
            guard let k = Self.string(p["key"]) else { return nil }
            return (k, Self.string(p["value"]) ?? "")
        }.sorted { $0.name < $1.name }
        let keys = Set((data["metrics"] as? [[String: Any]] ?? []).compactMap { Self.string($0["key"]) }).sorted()
        var byStep: [Int64: ImportedRun.MetricRow] = [:]
        for key in keys {
            for m in try await history(run: id, key: key) {
                var row = byStep[m.step] ?? ImportedRun.MetricRow(step: m.step, time: nil, values: [:])
                row.values[key] = m.value
                row.time = max(row.time ?? m.time, m.time)
                byStep[m.step] = row
            }
        }
        let rawStatus = Self.string(info["status"]) ?? "FINISHED"
        let status: TaskStatus
        switch rawStatus {
        case "FAILED", "KILLED": status = .failed
        case "RUNNING", "SCHEDULED": status = .running
        default: status = .finished
        }
        var details = ["experiment": experiment.name, "experiment_id": experiment.id, "mlflow_status": rawStatus]
        if let name = Self.string(info["run_name"]) { details["run_name"] = name }
        let tags = (data["tags"] as? [[String: Any]] ?? [])
        if let src = tags.first(where: { Self.string($0["key"]) == "mlflow.source.name" }).flatMap({ Self.string($0["value"]) }) {
            details["source_name"] = src
        }
        let start = Self.number(info["start_time"]).map { $0 / 1000 }
        let end = Self.number(info["end_time"]).map { $0 / 1000 }
        return ImportedRun(kind: .mlflow, sourceID: id, execution: "mlflow-\(id)", location: "mlflow:\(trackingURI)#\(id)",
                           user: Self.string(info["user_id"]), host: URLComponents(string: trackingURI)?.host, details: details,
                           startTime: start, endTime: end ?? (status.isTerminal ? start : nil), status: status,
                           error: rawStatus == "KILLED" ? "KILLED (MLflow)" : (status == .failed ? "FAILED (MLflow)" : nil),
                           params: params, stepIsEpoch: false, rows: byStep.values.sorted { $0.step < $1.step })
    }

    /// The history of one metric of one run, all pages.
    func history(run: String, key: String) async throws -> [(step: Int64, time: Double, value: Double)] {
        var out: [(step: Int64, time: Double, value: Double)] = []
        var token: String?
        repeat {
            var path = "/api/2.0/mlflow/metrics/get-history?run_id=\(Self.escape(run))&metric_key=\(Self.escape(key))&max_results=25000"
            if let token { path += "&page_token=\(Self.escape(token))" }
            let answer = try await call("GET", path, body: nil)
            for m in answer["metrics"] as? [[String: Any]] ?? [] {
                // A step that is no whole number in Int64's range (NaN, 1e30) is skipped, not trapped on.
                guard let v = Self.number(m["value"]), let step = Int64(exactly: (Self.number(m["step"]) ?? 0).rounded()) else { continue }
                out.append((step, (Self.number(m["timestamp"]) ?? 0) / 1000, v))
            }
            token = Self.string(answer["next_page_token"]).flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        // Logged twice at one step: the later value wins.
        return out.sorted { ($0.step, $0.time) < ($1.step, $1.time) }
    }

    func call(_ method: String, _ path: String, body: [String: Any]?) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: trackingURI + path)
        request.method = .init(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        }
        let response: HTTPClientResponse
        let data: Data
        do {
            response = try await http.execute(request, timeout: .seconds(120))
            data = Data(buffer: try await response.body.collect(upTo: 256 << 20))
        } catch {
            throw ImportError("cannot reach the MLflow tracking server at \(trackingURI) (\(error)); check --tracking-uri")
        }
        guard (200..<300).contains(response.status.code) else {
            let text = String(decoding: data.prefix(500), as: UTF8.self)
            throw ImportError("MLflow at \(trackingURI) answered \(method) \(path.split(separator: "?")[0]) with HTTP \(response.status.code): \(text)")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ImportError("MLflow at \(trackingURI) answered \(path.split(separator: "?")[0]) with something other than a JSON object; is it an MLflow tracking server?")
        }
        return object
    }

    static func string(_ v: Any?) -> String? {
        switch v {
        case let s as String: return s
        case let n as NSNumber: return n.stringValue
        default: return nil
        }
    }

    /// A JSON number, or a string holding one (protobuf JSON writes int64 and NaN as strings).
    static func number(_ v: Any?) -> Double? {
        switch v {
        case let n as NSNumber: return n.doubleValue
        case let s as String: return (try? Value.text(s).numeric()) ?? nil
        default: return nil
        }
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? s
    }
}

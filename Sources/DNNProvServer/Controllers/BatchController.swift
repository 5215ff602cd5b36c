import DNNProvModel
import DNNProvStore
import Hummingbird

/// `POST /api/v1/batch`: many task events per request, stored all or nothing, answered after
/// the commit.
struct BatchController {
    let store: ProvStore
    let limits: Limits

    /// `writers`: the group of write routes (role and admission middleware on it).
    func addRoutes(to writers: RouterGroup<AppRequestContext>) {
        writers.post("batch") { request, context in
            let principal = try context.requirePrincipal()
            let batch = try await JSONBody.decode(BatchRequest.self, from: request, limit: limits.maxBodyBytes)
            let events = batch.events.map(\.event)
            try limits.check(events)
            for (i, e) in events.enumerated() {
                do { try principal.requireWritable(e.dataflow) } catch let e as ProvError { throw e.at(event: i) }
            }
            return try JSONBody.response(try await store.ingest(events, options: .strict))
        }
    }
}

struct BatchRequest: Decodable {
    var events: [BatchEvent]
}

/// One event on the wire (see docs/api.md).
struct BatchEvent: Decodable {
    var event: TaskEvent

    enum CodingKeys: String, CodingKey {
        case key, dataflow, execution, transformation, task, status, time, dependencies, sets, files, error, output
        case executionInfo = "execution_info"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let status = try c.decodeIfPresent(String.self, forKey: .status)
        event = TaskEvent(
            key: try c.decodeIfPresent(LenientString.self, forKey: .key)?.value,
            dataflow: try c.decode(String.self, forKey: .dataflow),
            execution: try c.decodeIfPresent(LenientString.self, forKey: .execution)?.value,
            transformation: try c.decode(String.self, forKey: .transformation),
            task: try c.decode(LenientString.self, forKey: .task).value,
            status: try status.map { s throws(ProvError) in try TaskStatus.parse(s) } ?? .running,
            time: try c.decodeIfPresent(Double.self, forKey: .time),
            dependencies: try c.decodeIfPresent([WireTaskRef].self, forKey: .dependencies)?.map(\.ref) ?? [],
            sets: try c.decodeIfPresent([WireSet].self, forKey: .sets)?.map(\.set) ?? [],
            files: try c.decodeIfPresent([FileRef].self, forKey: .files) ?? [],
            executionInfo: try c.decodeIfPresent(WireExecutionInfo.self, forKey: .executionInfo)?.info,
            error: try c.decodeIfPresent(String.self, forKey: .error),
            output: try c.decodeIfPresent(String.self, forKey: .output))
    }
}

struct WireTaskRef: Decodable {
    var ref: TaskRef
    enum CodingKeys: String, CodingKey { case transformation, task }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ref = TaskRef(transformation: try c.decode(String.self, forKey: .transformation),
                      task: try c.decode(LenientString.self, forKey: .task).value)
    }
}

struct WireSet: Decodable {
    var set: ElementSet
    enum CodingKeys: String, CodingKey { case tag, attributes, elements }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        set = ElementSet(tag: try c.decode(String.self, forKey: .tag),
                         attributes: try c.decodeIfPresent([String].self, forKey: .attributes),
                         elements: try c.decodeIfPresent([[Value]].self, forKey: .elements) ?? [])
    }
}

struct WireExecutionInfo: Decodable {
    var info: ExecutionInfo
    enum CodingKeys: String, CodingKey { case user, host, script, email, hardware }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        info = ExecutionInfo(
            user: try c.decodeIfPresent(String.self, forKey: .user),
            host: try c.decodeIfPresent(String.self, forKey: .host),
            script: try c.decodeIfPresent(String.self, forKey: .script),
            email: try c.decodeIfPresent(String.self, forKey: .email),
            hardware: try c.decodeIfPresent(JSONText.self, forKey: .hardware)?.text)
    }
}

/// A string that may arrive as a JSON number or boolean (ids, keys).
struct LenientString: Decodable {
    var value: String
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            value = s
        } else if let i = try? c.decode(Int64.self) {
            value = String(i)
        } else if let d = try? c.decode(Double.self) {
            value = String(d)
        } else if let b = try? c.decode(Bool.self) {
            value = b ? "1" : "0"
        } else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: c.codingPath, debugDescription: "expected a string or a number"))
        }
    }
}

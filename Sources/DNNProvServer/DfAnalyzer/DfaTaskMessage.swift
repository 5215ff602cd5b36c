import DNNProvModel
import Foundation

/// A task message of the DfAnalyzer protocol (`POST /pde/task/json`), as the three client
/// variants send it: ids and values as strings or numbers, `exec` (variants B and C; their
/// `first` flag needs no handling since `exec` names the run),
/// `email` and `hardware` (variant C), dependencies with comma-joined ids.
struct DfaTaskMessage: Decodable {
    var event: TaskEvent

    enum CodingKeys: String, CodingKey {
        case id, dataflow, transformation, status, exec, sets, dependency, performances, files
        case email, hardware, workspace, resource, output, error
    }

    struct DfaSet: Decodable {
        var tag: String
        var elements: [[Value]]?
    }

    struct DfaDependency: Decodable {
        struct Tag: Decodable { var tag: String }
        struct ID: Decodable { var id: LenientString }
        var tags: [Tag]?
        var ids: [ID]?

        /// Pairs each tag with its ids ("1,2" holds two). Extra id records (variant C sends
        /// one id per record) belong to the last tag.
        var refs: [TaskRef] {
            let tags = self.tags ?? []
            guard let last = tags.last else { return [] }
            var refs: [TaskRef] = []
            for (i, record) in (ids ?? []).enumerated() {
                let tag = i < tags.count ? tags[i].tag : last.tag
                for id in record.id.value.split(separator: ",") {
                    let trimmed = id.trimmingCharacters(in: .whitespaces)
                    if !trimmed.isEmpty { refs.append(TaskRef(transformation: tag, task: trimmed)) }
                }
            }
            return refs
        }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let status = try c.decodeIfPresent(String.self, forKey: .status)
        let exec = try c.decodeIfPresent(LenientString.self, forKey: .exec)?.value
        let email = try c.decodeIfPresent(String.self, forKey: .email)
        let hardware = try c.decodeIfPresent(JSONText.self, forKey: .hardware)?.text
        event = TaskEvent(
            dataflow: try c.decode(String.self, forKey: .dataflow),
            execution: (exec?.isEmpty ?? true) ? nil : exec,
            transformation: try c.decode(String.self, forKey: .transformation),
            task: try c.decode(LenientString.self, forKey: .id).value,
            status: try status.map { s throws(ProvError) in try TaskStatus.parse(s) } ?? .running,
            dependencies: try c.decodeIfPresent(DfaDependency.self, forKey: .dependency)?.refs ?? [],
            sets: (try c.decodeIfPresent([DfaSet].self, forKey: .sets) ?? []).map { ElementSet(tag: $0.tag, elements: $0.elements ?? []) },
            files: try c.decodeIfPresent([FileRef].self, forKey: .files) ?? [],
            performances: try c.decodeIfPresent([Performance].self, forKey: .performances) ?? [],
            executionInfo: (email != nil || hardware != nil) ? ExecutionInfo(email: email, hardware: hardware) : nil,
            error: try c.decodeIfPresent(String.self, forKey: .error),
            output: try c.decodeIfPresent(String.self, forKey: .output),
            workspace: try c.decodeIfPresent(String.self, forKey: .workspace),
            resource: try c.decodeIfPresent(String.self, forKey: .resource))
    }
}

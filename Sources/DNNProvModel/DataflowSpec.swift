/// Prospective provenance: the plan of a dataflow, as clients register it.
/// The JSON shape is DfAnalyzer's (`POST /pde/dataflow/json`), which `/api/v1/dataflows` shares.
public struct DataflowSpec: Codable, Sendable, Equatable {
    public var tag: String
    public var transformations: [TransformationSpec]

    public init(tag: String, transformations: [TransformationSpec]) {
        self.tag = tag
        self.transformations = transformations
    }

    enum CodingKeys: String, CodingKey { case tag, transformations }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tag = try c.decode(String.self, forKey: .tag)
        transformations = try c.decodeIfPresent([TransformationSpec].self, forKey: .transformations) ?? []
    }
}

public struct TransformationSpec: Codable, Sendable, Equatable {
    public var tag: String
    public var sets: [SetSpec]
    public var programs: [ProgramSpec]

    public init(tag: String, sets: [SetSpec], programs: [ProgramSpec] = []) {
        self.tag = tag
        self.sets = sets
        self.programs = programs
    }

    enum CodingKeys: String, CodingKey { case tag, sets, programs }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tag = try c.decode(String.self, forKey: .tag)
        sets = try c.decodeIfPresent([SetSpec].self, forKey: .sets) ?? []
        programs = try c.decodeIfPresent([ProgramSpec].self, forKey: .programs) ?? []
    }
}

public enum SetRole: String, Codable, Sendable, Equatable {
    case input = "INPUT"
    case output = "OUTPUT"

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let role = SetRole(rawValue: raw.uppercased()) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "set type '\(raw)' is neither INPUT nor OUTPUT"))
        }
        self = role
    }
}

public struct SetSpec: Codable, Sendable, Equatable {
    public var tag: String
    public var role: SetRole
    public var attributes: [AttributeSpec]
    /// The transformation that produces this set, when this transformation consumes it.
    public var dependency: String?

    public init(tag: String, role: SetRole, attributes: [AttributeSpec], dependency: String? = nil) {
        self.tag = tag
        self.role = role
        self.attributes = attributes
        self.dependency = dependency
    }

    enum CodingKeys: String, CodingKey { case tag, role = "type", attributes, dependency }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tag = try c.decode(String.self, forKey: .tag)
        role = try c.decodeIfPresent(SetRole.self, forKey: .role) ?? .input
        attributes = try c.decodeIfPresent([AttributeSpec].self, forKey: .attributes) ?? []
        let dep = try c.decodeIfPresent(String.self, forKey: .dependency)
        dependency = (dep?.isEmpty ?? true) ? nil : dep
    }
}

public struct AttributeSpec: Codable, Sendable, Hashable {
    public var name: String
    public var type: AttributeType

    public init(name: String, type: AttributeType) {
        self.name = name
        self.type = type
    }

    enum CodingKeys: String, CodingKey { case name, type }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        type = try c.decodeIfPresent(AttributeType.self, forKey: .type) ?? .text
    }
}

public struct ProgramSpec: Codable, Sendable, Equatable {
    public var name: String
    public var path: String

    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }
}

extension DataflowSpec {
    /// The same specification with tags and names lower-cased and checked: identifiers valid,
    /// no attribute twice in a set, no reserved names, dependencies naming transformations.
    /// `known` holds the transformation tags already registered for this dataflow.
    public func normalized(knownTransformations known: Set<String> = []) throws(ProvError) -> DataflowSpec {
        let tag = try Identifier.normalizeDataflow(self.tag)
        var out: [TransformationSpec] = []
        var seen: Set<String> = []
        for t in transformations {
            let ttag = try Identifier.normalize(t.tag, what: "transformation tag")
            guard seen.insert(ttag).inserted else {
                throw .badRequest("transformation '\(ttag)' appears twice in dataflow '\(tag)'")
            }
            var sets: [SetSpec] = []
            var seenSets: Set<String> = []
            for s in t.sets {
                let stag = try Identifier.normalize(s.tag, what: "set tag")
                guard !Identifier.reserved.contains(stag), !Identifier.reserved.contains("ds_" + stag) else {
                    throw .badRequest("set tag '\(stag)' is reserved (it names a global provenance table)")
                }
                guard seenSets.insert(stag).inserted else {
                    throw .badRequest("set '\(stag)' appears twice in transformation '\(ttag)'")
                }
                var attrs: [AttributeSpec] = []
                var names: Set<String> = []
                for a in s.attributes {
                    let name = try Identifier.normalize(a.name, what: "attribute name")
                    guard name != "id", !name.hasSuffix("_task_id") else {
                        throw .badRequest("attribute name '\(name)' in set '\(stag)' is reserved (id and *_task_id columns link rows to tasks)")
                    }
                    guard names.insert(name).inserted else {
                        throw .badRequest("attribute '\(name)' appears twice in set '\(stag)'")
                    }
                    attrs.append(AttributeSpec(name: name, type: a.type))
                }
                let dep = try s.dependency.map { d throws(ProvError) in try Identifier.normalize(d, what: "dependency of set '\(stag)'") }
                sets.append(SetSpec(tag: stag, role: s.role, attributes: attrs, dependency: dep))
            }
            out.append(TransformationSpec(tag: ttag, sets: sets, programs: t.programs))
        }
        let all = seen.union(known)
        for t in out {
            for s in t.sets {
                if let d = s.dependency, !all.contains(d) {
                    throw .notFound("set '\(s.tag)' of transformation '\(t.tag)' depends on unknown transformation '\(d)'")
                }
            }
        }
        return DataflowSpec(tag: tag, transformations: out)
    }
}

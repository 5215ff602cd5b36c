import DNNProvModel
import Foundation

/// A literal value of a PROV attribute (docs/prov-mapping.md: NUMERIC -> xsd:double, TEXT and
/// FILE -> xsd:string, times -> xsd:dateTime; `prov:type` values are qualified names).
enum ProvLiteral: Equatable {
    case string(String)
    case double(Double)
    /// In `xsd:dateTime` form (`2026-11-25T09:00:00.123Z`).
    case dateTime(String)
    case qname(String)
    case integer(Int64)

    /// The lexical form (xsd:double writes `NaN`, `INF`, `-INF`).
    var lexical: String {
        switch self {
        case .string(let s), .dateTime(let s), .qname(let s): return s
        case .integer(let i): return String(i)
        case .double(let d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d > 0 ? "INF" : "-INF" }
            if d == d.rounded(), abs(d) < 1e15 { return "\(Int64(d)).0" }
            return "\(d)"
        }
    }

    var xsdType: String {
        switch self {
        case .string: return "xsd:string"
        case .double: return "xsd:double"
        case .dateTime: return "xsd:dateTime"
        case .qname: return "prov:QUALIFIED_NAME"
        case .integer: return "xsd:long"
        }
    }
}

/// The PROV kinds dnnprov writes, in the order an export writes them (one section per kind, so
/// that PROV-JSON, whose members are grouped by kind, streams).
enum ProvKind: String, CaseIterable {
    case entity, activity, agent
    case wasGeneratedBy, used, wasInformedBy, wasDerivedFrom, wasAssociatedWith, actedOnBehalfOf, wasAttributedTo, hadMember

    var isNode: Bool { self == .entity || self == .activity || self == .agent }

    /// The PROV-JSON keys of a relation's positional arguments, in PROV-N order.
    var roles: [String] {
        switch self {
        case .entity, .activity, .agent: return []
        case .wasGeneratedBy: return ["prov:entity", "prov:activity"]
        case .used: return ["prov:activity", "prov:entity"]
        case .wasInformedBy: return ["prov:informed", "prov:informant"]
        case .wasDerivedFrom: return ["prov:generatedEntity", "prov:usedEntity", "prov:activity"]
        case .wasAssociatedWith: return ["prov:activity", "prov:agent", "prov:plan"]
        case .actedOnBehalfOf: return ["prov:delegate", "prov:responsible", "prov:activity"]
        case .wasAttributedTo: return ["prov:entity", "prov:agent"]
        case .hadMember: return ["prov:collection", "prov:entity"]
        }
    }

    /// The PROV-O property of the unqualified relation.
    var property: String { "prov:\(rawValue)" }
}

/// One PROV statement: a node (entity, activity, agent) or a relation between nodes.
struct ProvRecord {
    var kind: ProvKind
    /// The node's qualified name; unused for relations (writers give them blank identifiers).
    var id: String = ""
    /// A relation's arguments, qualified names in PROV-N order (nil: not given).
    var args: [String?] = []
    var startTime: String?
    var endTime: String?
    /// Attribute name (a qualified name) and value; values of one name are adjacent.
    var attributes: [(String, ProvLiteral)] = []

    static func relation(_ kind: ProvKind, _ args: String?...) -> ProvRecord {
        ProvRecord(kind: kind, args: args)
    }
}

/// The namespaces of an export: PROV, XSD, the dnnprov vocabulary, and per dataflow one for its
/// instances and one for its attribute names. All are absolute http(s) IRIs.
struct ProvNamespaces {
    static let prov = "http://www.w3.org/ns/prov#"
    static let xsd = "http://www.w3.org/2001/XMLSchema#"
    static let vocabulary = "https://w3id.org/dnnprov/ns#"
    static let base = "https://w3id.org/dnnprov/dataflow/"

    let dataflow: String
    /// Prefix -> IRI, in declaration order (prov and xsd are built into PROV-JSON and PROV-N
    /// but declared in Turtle).
    var declared: [(prefix: String, iri: String)] {
        [("dnnprov", Self.vocabulary), ("d", Self.instances(dataflow)), ("attr", Self.attributes(dataflow))]
    }

    static func instances(_ dataflow: String) -> String { base + dataflow + "/" }
    static func attributes(_ dataflow: String) -> String { base + dataflow + "/attribute#" }

    func expand(_ qname: String) -> String {
        guard let colon = qname.firstIndex(of: ":") else { return qname }
        let prefix = String(qname[..<colon]), local = String(qname[qname.index(after: colon)...])
        switch prefix {
        case "prov": return Self.prov + local
        case "xsd": return Self.xsd + local
        default: return (declared.first { $0.prefix == prefix }?.iri ?? "urn:\(prefix):") + local
        }
    }

    /// The qualified name as PROV-N and Turtle write it: a trailing `.` is escaped (names may end
    /// with one; neither grammar allows it unescaped).
    static func escaped(_ qname: String) -> String {
        qname.hasSuffix(".") ? String(qname.dropLast()) + "\\." : qname
    }
}

/// Turns a stored time (`YYYY-MM-DD HH:MM:SS.mmm`, UTC) into `xsd:dateTime`.
func xsdDateTime(_ stored: String?) -> String? {
    guard let stored, stored.count >= 19 else { return nil }
    var s = stored
    if s.count > 10, s[s.index(s.startIndex, offsetBy: 10)] == " " {
        s.replaceSubrange(s.index(s.startIndex, offsetBy: 10)...s.index(s.startIndex, offsetBy: 10), with: "T")
    }
    return s.hasSuffix("Z") ? s : s + "Z"
}

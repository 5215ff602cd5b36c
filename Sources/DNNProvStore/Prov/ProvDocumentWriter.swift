import DNNProvModel
import Foundation

/// Serialises a stream of PROV records into bytes, one format each. Records arrive grouped by
/// kind (`ProvKind` order); a writer appends to `out`, which its caller flushes as it grows, so
/// a document of any size is written in bounded memory.
protocol ProvDocumentWriter {
    mutating func begin(_ ns: ProvNamespaces, into out: inout [UInt8])
    mutating func write(_ record: ProvRecord, into out: inout [UInt8])
    mutating func end(into out: inout [UInt8])
}

func makeWriter(_ format: ProvFormat) -> any ProvDocumentWriter {
    switch format {
    case .provJSON: return ProvJSONWriter()
    case .provN: return ProvNWriter()
    case .provO: return TurtleWriter()
    case .dot, .svg: return DotWriter()
    }
}

extension Array where Element == UInt8 {
    @inline(__always) mutating func add(_ s: String) { append(contentsOf: s.utf8) }
}

// MARK: PROV-JSON (W3C member submission)

struct ProvJSONWriter: ProvDocumentWriter {
    private var kind: ProvKind?
    private var first = true
    private var counter = 0
    private var ns: ProvNamespaces?

    mutating func begin(_ ns: ProvNamespaces, into out: inout [UInt8]) {
        self.ns = ns
        out.add("{\"prefix\":{")
        for (i, p) in ns.declared.enumerated() {
            if i > 0 { out.add(",") }
            out.appendJSONString(p.prefix)
            out.add(":")
            out.appendJSONString(p.iri)
        }
        out.add("}")
    }

    mutating func write(_ r: ProvRecord, into out: inout [UInt8]) {
        if r.kind != kind {
            if kind != nil { out.add("}") }
            out.add(",\n\"\(r.kind.rawValue)\":{")
            kind = r.kind
            first = true
        }
        if !first { out.add(",") }
        first = false
        out.add("\n")
        if r.kind.isNode {
            out.appendJSONString(r.id)
        } else {
            counter += 1
            out.add("\"_:\(r.kind.rawValue)\(counter)\"")
        }
        out.add(":{")
        var sep = false
        for (role, arg) in zip(r.kind.roles, r.args) {
            guard let arg else { continue }
            if sep { out.add(",") }
            sep = true
            out.add("\"\(role)\":")
            out.appendJSONString(arg)
        }
        if let t = r.startTime { if sep { out.add(",") }; sep = true; out.add("\"prov:startTime\":"); out.appendJSONString(t) }
        if let t = r.endTime { if sep { out.add(",") }; sep = true; out.add("\"prov:endTime\":"); out.appendJSONString(t) }
        var i = 0
        let attrs = r.attributes
        while i < attrs.count {
            var j = i + 1
            while j < attrs.count && attrs[j].0 == attrs[i].0 { j += 1 }
            if sep { out.add(",") }
            sep = true
            out.appendJSONString(attrs[i].0)
            out.add(":")
            if j - i > 1 { out.add("[") }
            for k in i..<j {
                if k > i { out.add(",") }
                Self.literal(attrs[k].1, into: &out)
            }
            if j - i > 1 { out.add("]") }
            i = j
        }
        out.add("}")
    }

    static func literal(_ v: ProvLiteral, into out: inout [UInt8]) {
        out.add("{\"$\":")
        out.appendJSONString(v.lexical)
        out.add(",\"type\":\"\(v.xsdType)\"}")
    }

    mutating func end(into out: inout [UInt8]) {
        if kind != nil { out.add("}") }
        out.add("\n}\n")
    }
}

// MARK: PROV-N

struct ProvNWriter: ProvDocumentWriter {
    mutating func begin(_ ns: ProvNamespaces, into out: inout [UInt8]) {
        out.add("document\n")
        for p in ns.declared { out.add("  prefix \(p.prefix) <\(p.iri)>\n") }
        out.add("\n")
    }

    static func string(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.add("\\\"")
            case UInt8(ascii: "\\"): out.add("\\\\")
            case 0x0A: out.add("\\n")
            case 0x0D: out.add("\\r")
            case 0x09: out.add("\\t")
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func literal(_ v: ProvLiteral, into out: inout [UInt8]) {
        switch v {
        case .qname(let q): out.add("'\(ProvNamespaces.escaped(q))'")
        case .string(let s): string(s, into: &out)
        default:
            string(v.lexical, into: &out)
            out.add(" %% \(v.xsdType)")
        }
    }

    mutating func write(_ r: ProvRecord, into out: inout [UInt8]) {
        out.add("  \(r.kind.rawValue)(")
        if r.kind.isNode {
            out.add(ProvNamespaces.escaped(r.id))
            if r.kind == .activity {
                out.add(", \(r.startTime ?? "-"), \(r.endTime ?? "-")")
            }
        } else {
            var args = r.args.map { $0.map(ProvNamespaces.escaped) ?? "-" }
            switch r.kind {
            case .wasGeneratedBy, .used: args.append("-")
            case .wasDerivedFrom where r.args.count > 2 && r.args[2] != nil: args += ["-", "-"]
            case .wasDerivedFrom: args = Array(args.prefix(2))
            default: break
            }
            out.add(args.joined(separator: ", "))
        }
        if !r.attributes.isEmpty {
            out.add(", [")
            for (i, (k, v)) in r.attributes.enumerated() {
                if i > 0 { out.add(", ") }
                out.add(ProvNamespaces.escaped(k))
                out.add("=")
                Self.literal(v, into: &out)
            }
            out.add("]")
        }
        out.add(")\n")
    }

    mutating func end(into out: inout [UInt8]) { out.add("endDocument\n") }
}

// MARK: PROV-O (Turtle)

struct TurtleWriter: ProvDocumentWriter {
    private var ns: ProvNamespaces?
    private var blank = 0

    mutating func begin(_ ns: ProvNamespaces, into out: inout [UInt8]) {
        self.ns = ns
        out.add("@prefix prov: <\(ProvNamespaces.prov)> .\n@prefix xsd: <\(ProvNamespaces.xsd)> .\n")
        out.add("@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n")
        for p in ns.declared { out.add("@prefix \(p.prefix): <\(p.iri)> .\n") }
        out.add("\n")
    }

    static func name(_ q: String) -> String { ProvNamespaces.escaped(q) }

    static func string(_ s: String, into out: inout [UInt8]) { ProvNWriter.string(s, into: &out) }

    static func literal(_ v: ProvLiteral, into out: inout [UInt8]) {
        switch v {
        case .qname(let q): out.add(name(q))
        case .string(let s): string(s, into: &out)
        default:
            string(v.lexical, into: &out)
            out.add("^^\(v.xsdType)")
        }
    }

    mutating func write(_ r: ProvRecord, into out: inout [UInt8]) {
        if r.kind.isNode {
            let cls: String = r.kind == .entity ? "prov:Entity" : r.kind == .activity ? "prov:Activity" : "prov:Agent"
            out.add(Self.name(r.id))
            out.add(" a \(cls)")
            for (k, v) in r.attributes where k == "prov:type" { out.add(", "); Self.literal(v, into: &out) }
            if let t = r.startTime { out.add(" ;\n  prov:startedAtTime \"\(t)\"^^xsd:dateTime") }
            if let t = r.endTime { out.add(" ;\n  prov:endedAtTime \"\(t)\"^^xsd:dateTime") }
            for (k, v) in r.attributes where k != "prov:type" {
                out.add(" ;\n  ")
                out.add(k == "prov:label" ? "rdfs:label" : Self.name(k))
                out.add(" ")
                Self.literal(v, into: &out)
            }
            out.add(" .\n")
            return
        }
        guard let s = r.args.first ?? nil, r.args.count > 1, let o = r.args[1] else { return }
        out.add("\(Self.name(s)) \(r.kind.property) \(Self.name(o)) .\n")
        // The plan of an association needs the qualified form.
        if r.kind == .wasAssociatedWith, r.args.count > 2, let plan = r.args[2] {
            blank += 1
            out.add("\(Self.name(s)) prov:qualifiedAssociation [ a prov:Association ; prov:agent \(Self.name(o)) ; prov:hadPlan \(Self.name(plan)) ] .\n")
        }
    }

    mutating func end(into out: inout [UInt8]) {}
}

// MARK: Graphviz DOT (drawn like seed 003, Fig. 2)

struct DotWriter: ProvDocumentWriter {
    mutating func begin(_ ns: ProvNamespaces, into out: inout [UInt8]) {
        out.add("digraph \"prov\" {\n  rankdir=BT;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=8];\n")
    }

    static func quoted(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.add("\\\"")
            case UInt8(ascii: "\\"): out.add("\\\\")
            case 0x0A: out.add("\\n")
            case 0x0D: break
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    mutating func write(_ r: ProvRecord, into out: inout [UInt8]) {
        if r.kind.isNode {
            out.add("  ")
            Self.quoted(r.id, into: &out)
            switch r.kind {
            case .entity: out.add(" [shape=ellipse, style=filled, fillcolor=\"#FFFC87\", color=\"#808080\", label=")
            case .activity: out.add(" [shape=box, style=filled, fillcolor=\"#9FB1FC\", color=\"#0000FF\", label=")
            default: out.add(" [shape=house, style=filled, fillcolor=\"#FED37F\", label=")
            }
            var label = r.id
            let shown = r.attributes.filter { $0.0 != "prov:type" }.prefix(8)
            for (k, v) in shown {
                let name = k.split(separator: ":", maxSplits: 1).last.map(String.init) ?? k
                var value = v.lexical
                if value.count > 40 { value = String(value.prefix(40)) + "…" }
                label += "\n\(name) = \(value)"
            }
            Self.quoted(label, into: &out)
            out.add("];\n")
            return
        }
        guard let s = r.args.first ?? nil, r.args.count > 1, let o = r.args[1] else { return }
        out.add("  ")
        Self.quoted(s, into: &out)
        out.add(" -> ")
        Self.quoted(o, into: &out)
        out.add(" [label=\"\(r.kind.rawValue)\"];\n")
    }

    mutating func end(into out: inout [UInt8]) { out.add("}\n") }
}

import DNNProvModel
import Foundation

/// The line-based text format of `POST /pde/dataflow` and `POST /pde/task`: one call per line,
/// `name(arg, arg, ...)`, lists as `{a;b;c}` (nested for collections: `{{1;2};{3;4}}`, or
/// `{{1;2}{3;4}}` as the C++ library writes them).
enum DfaTextFormat {
    struct Call {
        var name: String
        var args: [String]
        var line: Int
    }

    static func calls(_ text: String) throws(ProvError) -> [Call] {
        var out: [Call] = []
        for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let open = line.firstIndex(of: "("), line.hasSuffix(")") else {
                throw .badRequest("line \(n + 1): expected name(arguments), got '\(line.prefix(60))'")
            }
            let name = line[..<open].trimmingCharacters(in: .whitespaces).lowercased()
            let inner = line[line.index(after: open)..<line.index(before: line.endIndex)]
            out.append(Call(name: name, args: split(inner, on: ","), line: n + 1))
        }
        return out
    }

    /// Splits on a separator outside braces, trimming each part.
    static func split(_ s: Substring, on sep: Character) -> [String] {
        var parts: [String] = []
        var depth = 0
        var current = ""
        for ch in s {
            if ch == "{" { depth += 1 }
            if ch == "}" { depth -= 1 }
            if ch == sep && depth == 0 {
                parts.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(ch)
            }
        }
        let last = current.trimmingCharacters(in: .whitespaces)
        if !last.isEmpty || !parts.isEmpty { parts.append(last) }
        return parts
    }

    /// `{a;b;c}` -> [a, b, c]; a bare value is a list of one. Braced items need no `;` between
    /// them: the C++ library writes `{{1;0.5}{2;0.4}}`, the Python one `{{1;0.5};{2;0.4}}`.
    static func list(_ s: String) -> [String] {
        let t = s.trimmingCharacters(in: .whitespaces)
        guard t.hasPrefix("{"), t.hasSuffix("}") else { return t.isEmpty ? [] : [t] }
        var parts: [String] = []
        var depth = 0
        var current = ""
        func flush() {
            let part = current.trimmingCharacters(in: .whitespaces)
            if !part.isEmpty { parts.append(part) }
            current = ""
        }
        for ch in t.dropFirst().dropLast() {
            if ch == "{" {
                // `}{`: a braced item ended and the next begins.
                if depth == 0, current.trimmingCharacters(in: .whitespaces).hasSuffix("}") { flush() }
                depth += 1
            }
            if ch == "}" { depth -= 1 }
            if ch == ";" && depth == 0 {
                flush()
            } else {
                current.append(ch)
            }
        }
        flush()
        return parts
    }

    private static func arg(_ c: Call, _ i: Int, _ what: String) throws(ProvError) -> String {
        guard i < c.args.count, !c.args[i].isEmpty else {
            throw .badRequest("line \(c.line): \(c.name)(...) lacks its \(what) (argument \(i + 1))")
        }
        return c.args[i]
    }

    static func dataflow(_ text: String) throws(ProvError) -> DataflowSpec {
        var tag: String?
        var programs: [String: ProgramSpec] = [:]
        var datasets: [String: [AttributeSpec]] = [:]
        var transformations: [TransformationSpec] = []
        for c in try calls(text) {
            switch c.name {
            case "dataflow":
                tag = try arg(c, 0, "tag")
            case "program":
                let name = try arg(c, 0, "name")
                programs[name] = ProgramSpec(name: name, path: c.args.count > 1 ? c.args[1] : "")
            case "dataset":
                let names = list(try arg(c, 1, "attribute names"))
                let types = c.args.count > 2 ? list(c.args[2]) : []
                datasets[try arg(c, 0, "tag").lowercased()] = names.enumerated().map { i, n in
                    AttributeSpec(name: n, type: AttributeType(rawValue: i < types.count ? types[i] : "TEXT"))
                }
            case "transformation":
                let ttag = try arg(c, 0, "tag")
                let inputs = c.args.count > 1 ? list(c.args[1]) : []
                let outputs = c.args.count > 2 ? list(c.args[2]) : []
                let progs = c.args.count > 3 ? list(c.args[3]) : []
                let sets = inputs.map { SetSpec(tag: $0, role: .input, attributes: datasets[$0.lowercased()] ?? []) }
                    + outputs.map { SetSpec(tag: $0, role: .output, attributes: datasets[$0.lowercased()] ?? []) }
                transformations.append(TransformationSpec(
                    tag: ttag, sets: sets, programs: progs.map { programs[$0] ?? ProgramSpec(name: $0, path: "") }))
            default:
                throw .badRequest("line \(c.line): unknown call '\(c.name)' in a dataflow specification")
            }
        }
        guard let tag else { throw .badRequest("the specification has no dataflow(tag) line") }
        return DataflowSpec(tag: tag, transformations: transformations)
    }

    static func task(_ text: String) throws(ProvError) -> TaskEvent {
        var event: TaskEvent?
        var sets: [ElementSet] = []
        var deps: [TaskRef] = []
        var files: [FileRef] = []
        for c in try calls(text) {
            switch c.name {
            case "task":
                // task(dfTag, dtTag, id, subId, STATUS[, workspace[, resource]])
                let status = c.args.count > 4 ? try TaskStatus.parse(c.args[4]) : .running
                event = TaskEvent(
                    dataflow: try arg(c, 0, "dataflow tag"), execution: nil, transformation: try arg(c, 1, "transformation tag"),
                    task: try arg(c, 2, "task id"), status: status,
                    workspace: c.args.count > 5 ? c.args[5] : nil, resource: c.args.count > 6 ? c.args[6] : nil)
            case "collection":
                let rows = list(try arg(c, 1, "elements")).map { list($0).map { Value.text($0) } }
                sets.append(ElementSet(tag: try arg(c, 0, "set tag"), elements: rows))
            case "dependency":
                let tags = list(try arg(c, 0, "transformation tags"))
                let ids = c.args.count > 1 ? list(c.args[1]) : []
                for (i, id) in ids.enumerated() where !tags.isEmpty {
                    deps.append(TaskRef(transformation: i < tags.count ? tags[i] : tags[tags.count - 1], task: id))
                }
            case "file":
                files.append(FileRef(name: try arg(c, 0, "name"), path: c.args.count > 1 ? c.args[1] : ""))
            default:
                throw .badRequest("line \(c.line): unknown call '\(c.name)' in a task message")
            }
        }
        guard var e = event else { throw .badRequest("the task message has no task(...) line") }
        e.sets = sets
        e.dependencies = deps
        e.files = files
        return e
    }
}

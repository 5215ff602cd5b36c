import DNNProvModel
import Foundation

/// Reads DfAnalyzer's query language (its Query Interface) into a `DfQuery`.
///
/// The text is a sequence of clauses `keyword(arguments)`, as DfAnalyzer's scripts write them,
/// one per line: `mapping(physical|logical|hybrid)`, `source(...)`, `target(...)`,
/// `include(...)`, `exclude(...)`, `projection(...)`, `selection(...)`. Keywords and names are
/// case-insensitive. Arguments are separated by `;` (DfAnalyzer's separator; `,` also works in
/// the dataset lists and projections); a trailing `;` is ignored. Unlike DfAnalyzer, a clause may
/// span lines (its README's own example breaks a projection over two lines, which DfAnalyzer then
/// silently dropped), a clause given twice adds to the first (a second `mapping` is refused), and
/// `#` or `--` starts a comment outside the clauses. Every problem is a `ProvError.badRequest`
/// naming the line and the clause; no input traps.
public enum DfQueryParser {
    /// The keywords of the language, in the order the documentation gives them.
    public static let keywords = ["mapping", "source", "target", "include", "exclude", "projection", "selection"]

    /// How deeply parentheses and operators may nest in a selection.
    static let maxDepth = 64

    public static func parse(_ text: String) throws(ProvError) -> DfQuery {
        var query = DfQuery()
        var mappingLine: Int?
        let chars = Array(text)
        var i = 0
        var line = 1
        func skipToLineEnd() {
            while i < chars.count, !chars[i].isNewline { i += 1 }
        }
        while i < chars.count {
            let c = chars[i]
            if c.isNewline {
                line += 1
                i += 1
                continue
            }
            if c.isWhitespace || c == ";" {
                i += 1
                continue
            }
            if c == "#" || (c == "-" && i + 1 < chars.count && chars[i + 1] == "-") {
                skipToLineEnd()
                continue
            }
            // keyword
            let start = i
            while i < chars.count, chars[i].isASCII, chars[i].isLetter || chars[i] == "_" { i += 1 }
            let word = String(chars[start..<i])
            guard !word.isEmpty else {
                throw .badRequest("line \(line): expected a clause such as source(...), found '\(snippet(chars, from: start))'")
            }
            let keyword = word.lowercased()
            guard keywords.contains(keyword) else {
                throw .badRequest("line \(line): unknown keyword '\(word.clipped(to: 40))'; the query language has "
                    + keywords.map { "\($0)(...)" }.joined(separator: ", "))
            }
            while i < chars.count, chars[i].isWhitespace, !chars[i].isNewline { i += 1 }
            guard i < chars.count, chars[i] == "(" else {
                throw .badRequest("line \(line): '\(word)' must be followed by '(': write \(keyword)(...)")
            }
            let clauseLine = line
            i += 1
            // The arguments: up to the matching ')', outside quotes.
            let argsStart = i
            var depth = 0
            var quote: Character?
            var closed = false
            while i < chars.count {
                let ch = chars[i]
                if ch.isNewline { line += 1 }
                if let q = quote {
                    if ch == q { quote = nil }
                } else if ch == "'" || ch == "\"" {
                    quote = ch
                } else if ch == "(" {
                    depth += 1
                } else if ch == ")" {
                    if depth == 0 {
                        closed = true
                        break
                    }
                    depth -= 1
                }
                i += 1
            }
            guard closed else {
                let what = quote.map { "a \($0 == "'" ? "string" : "quoted name") is never closed in it" } ?? "its ')' is missing"
                throw .badRequest("line \(clauseLine): \(keyword)(...) does not end: \(what)")
            }
            let args = Array(chars[argsStart..<i])
            i += 1
            let context = "line \(clauseLine), \(keyword)(...)"
            switch keyword {
            case "mapping":
                let items = try split(args, separators: [";", ","], context: context)
                guard items.count == 1 else {
                    throw .badRequest("\(context): give one mapping: physical, logical or hybrid")
                }
                let value = String(items[0]).lowercased()
                guard let mapping = DfQuery.Mapping(rawValue: value) else {
                    throw .badRequest("\(context): unknown mapping '\(value.clipped(to: 40))'; the mappings are physical, logical and hybrid")
                }
                if let first = mappingLine {
                    throw .badRequest("\(context): the mapping is already given on line \(first)")
                }
                mappingLine = clauseLine
                query.mapping = mapping
            case "source", "target", "include", "exclude":
                let names = try split(args, separators: [";", ","], context: context).map { item throws(ProvError) in
                    try datasetName(item, context: context)
                }
                guard !names.isEmpty else { throw .badRequest("\(context): name at least one dataset") }
                switch keyword {
                case "source": query.sources += names
                case "target": query.targets += names
                case "include": query.includes += names
                default: query.excludes += names
                }
            case "projection":
                for item in try split(args, separators: [";", ","], context: context) {
                    query.projections.append(try projection(item, context: context))
                }
            default: // selection
                for item in try split(args, separators: [";"], context: context) {
                    var parser = ExpressionParser(tokens: try tokenize(item, names: .plain, context: context), context: context)
                    query.selections.append(try parser.parseAll())
                }
            }
        }
        return query
    }

    // MARK: arguments

    /// The arguments split at top-level separators (outside quotes and parentheses), trimmed,
    /// empty ones dropped.
    static func split(_ chars: [Character], separators: Set<Character>, context: String) throws(ProvError) -> [[Character]] {
        var out: [[Character]] = []
        var current: [Character] = []
        var depth = 0
        var quote: Character?
        for ch in chars {
            if let q = quote {
                if ch == q { quote = nil }
            } else if ch == "'" || ch == "\"" {
                quote = ch
            } else if ch == "(" {
                depth += 1
            } else if ch == ")" {
                depth -= 1
            } else if depth == 0, separators.contains(ch) {
                out.append(current)
                current = []
                continue
            }
            current.append(ch)
        }
        out.append(current)
        return out.map { trim($0) }.filter { !$0.isEmpty }
    }

    static func trim(_ chars: [Character]) -> [Character] {
        var s = chars[...]
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return Array(s)
    }

    /// A dataset of source/target/include/exclude: `otrainingmodel`, `ds_otrainingmodel` or
    /// `"o-set"`, lower-cased. Whether the dataflow has it is checked when the SQL is made.
    static func datasetName(_ item: [Character], context: String) throws(ProvError) -> String {
        var text = String(item)
        if item.count >= 2, item.first == "\"", item.last == "\"" {
            text = String(item.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
        }
        let name = text.lowercased()
        guard Identifier.isName(name), name.utf8.count <= Identifier.maxLength + 3 else {
            throw .badRequest("\(context): '\(text.clipped(to: 60))' is not a dataset name (letters, digits, '_', '-' and '.', starting with a letter or '_')")
        }
        return name
    }

    /// `set.attr`, `attr`, `set.*`, `*`, each optionally followed by `AS name` (or just `name`).
    static func projection(_ item: [Character], context: String) throws(ProvError) -> DfQuery.Projection {
        let tokens = try tokenize(item, names: .withDashes, context: context)
        var at = 0
        func describe(_ t: Token) -> String { t.kind == .end ? "the end" : "'\(t.text.clipped(to: 40))'" }
        let reference: DfQuery.Reference
        if tokens[at].isOperator("*") {
            reference = DfQuery.Reference([], star: true)
            at += 1
        } else {
            var parts: [DfQuery.Name] = []
            var star = false
            while true {
                let t = tokens[at]
                guard let name = t.name else {
                    throw .badRequest("\(context): expected an attribute (dataset.attribute), found \(describe(t)) in '\(String(item).clipped(to: 60))'")
                }
                parts.append(name)
                at += 1
                guard tokens[at].isOperator(".") else { break }
                at += 1
                if tokens[at].isOperator("*") {
                    star = true
                    at += 1
                    break
                }
            }
            reference = DfQuery.Reference(parts, star: star)
        }
        var alias: DfQuery.Name?
        if tokens[at].kind != .end {
            if tokens[at].kind == .word, tokens[at].text.uppercased() == "AS" { at += 1 }
            guard let name = tokens[at].name else {
                throw .badRequest("\(context): expected a column name after '\(reference)', found \(describe(tokens[at]))")
            }
            guard !reference.star else { throw .badRequest("\(context): '\(reference)' stands for several columns and cannot be renamed") }
            alias = name
            at += 1
        }
        guard tokens[at].kind == .end else {
            throw .badRequest("\(context): unexpected \(describe(tokens[at])) in '\(String(item).clipped(to: 60))'; separate projections with ';'")
        }
        return DfQuery.Projection(reference, alias: alias)
    }

    static func snippet(_ chars: [Character], from: Int) -> String {
        var end = from
        while end < chars.count, !chars[end].isNewline, end - from < 30 { end += 1 }
        return String(chars[from..<end])
    }

    // MARK: tokens

    struct Token: Equatable {
        enum Kind { case word, quoted, string, number, op, end }
        var kind: Kind
        var text: String

        var name: DfQuery.Name? {
            switch kind {
            case .word: return DfQuery.Name(text)
            case .quoted: return DfQuery.Name(text, quoted: true)
            default: return nil
            }
        }

        func isOperator(_ s: String) -> Bool { kind == .op && text == s }
        func isKeyword(_ k: String) -> Bool { kind == .word && text.uppercased() == k }
    }

    enum NameStyle { case plain, withDashes }

    static let operators: [String] = ["<=", ">=", "<>", "!=", "==", "||", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", "."]

    static func tokenize(_ chars: [Character], names: NameStyle, context: String) throws(ProvError) -> [Token] {
        var out: [Token] = []
        var i = 0
        func isNameStart(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c == "_") }
        func isNameChar(_ c: Character) -> Bool {
            c.isASCII && (c.isLetter || c.isNumber || c == "_" || (names == .withDashes && c == "-"))
        }
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace {
                i += 1
            } else if isNameStart(c) {
                let start = i
                while i < chars.count, isNameChar(chars[i]) { i += 1 }
                out.append(Token(kind: .word, text: String(chars[start..<i])))
            } else if c.isASCII && c.isNumber
                        || (c == "." && i + 1 < chars.count && chars[i + 1].isASCII && chars[i + 1].isNumber
                            && !(out.last.map { $0.kind == .word || $0.kind == .quoted } ?? false)) {
                let start = i
                while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
                if i < chars.count, chars[i] == "." {
                    i += 1
                    while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
                }
                if i < chars.count, chars[i] == "e" || chars[i] == "E" {
                    var j = i + 1
                    if j < chars.count, chars[j] == "+" || chars[j] == "-" { j += 1 }
                    if j < chars.count, chars[j].isASCII, chars[j].isNumber {
                        i = j
                        while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
                    }
                }
                if i < chars.count, isNameStart(chars[i]) {
                    while i < chars.count, isNameChar(chars[i]) { i += 1 }
                    throw .badRequest("\(context): '\(String(chars[start..<i]).clipped(to: 40))' is neither a number nor a name")
                }
                out.append(Token(kind: .number, text: String(chars[start..<i])))
            } else if c == "'" || c == "\"" {
                let start = i
                i += 1
                var value = ""
                var closed = false
                while i < chars.count {
                    if chars[i] == c {
                        if i + 1 < chars.count, chars[i + 1] == c {
                            value.append(c)
                            i += 2
                            continue
                        }
                        i += 1
                        closed = true
                        break
                    }
                    value.append(chars[i])
                    i += 1
                }
                guard closed else {
                    throw .badRequest("\(context): \(c == "'" ? "the string" : "the quoted name") \(String(chars[start...]).clipped(to: 40)) is never closed")
                }
                if c == "\"" && value.isEmpty { throw .badRequest("\(context): an empty quoted name (\"\") names nothing") }
                out.append(Token(kind: c == "'" ? .string : .quoted, text: value))
            } else if let op = operators.first(where: { op in
                let o = Array(op)
                return i + o.count <= chars.count && Array(chars[i..<(i + o.count)]) == o
            }) {
                i += op.count
                out.append(Token(kind: .op, text: op))
            } else {
                throw .badRequest("\(context): unexpected character '\(c)' in '\(String(chars).clipped(to: 60))'")
            }
        }
        out.append(Token(kind: .end, text: ""))
        return out
    }

    // MARK: selections

    /// Recursive descent over one selection, SQLite's precedence: OR < AND < NOT < comparisons <
    /// `+ -` < `* / %` < `||` < unary signs.
    struct ExpressionParser {
        var tokens: [Token]
        var context: String
        var at = 0
        var depth = 0

        init(tokens: [Token], context: String) {
            self.tokens = tokens
            self.context = context
        }

        var current: Token { tokens[at] }

        func describe(_ t: Token) -> String {
            switch t.kind {
            case .end: return "the end"
            case .string: return "'\(t.text.replacingOccurrences(of: "'", with: "''").clipped(to: 40))'"
            case .quoted: return "\"\(t.text.clipped(to: 40))\""
            default: return "'\(t.text.clipped(to: 40))'"
            }
        }

        func fail(_ message: String) -> ProvError { .badRequest("\(context): \(message)") }

        mutating func parseAll() throws(ProvError) -> DfQuery.Expression {
            let e = try parseOr()
            guard current.kind == .end else {
                throw fail("expected AND, OR or the end of the condition, found \(describe(current))")
            }
            return e
        }

        mutating func nest() throws(ProvError) {
            depth += 1
            guard depth <= DfQueryParser.maxDepth else { throw fail("the condition nests more than \(DfQueryParser.maxDepth) levels deep") }
        }

        mutating func parseOr() throws(ProvError) -> DfQuery.Expression {
            try nest()
            defer { depth -= 1 }
            var e = try parseAnd()
            while current.isKeyword("OR") {
                at += 1
                e = .binary("OR", e, try parseAnd())
            }
            return e
        }

        mutating func parseAnd() throws(ProvError) -> DfQuery.Expression {
            var e = try parseNot()
            while current.isKeyword("AND") {
                at += 1
                e = .binary("AND", e, try parseNot())
            }
            return e
        }

        mutating func parseNot() throws(ProvError) -> DfQuery.Expression {
            if current.isKeyword("NOT") {
                try nest()
                defer { depth -= 1 }
                at += 1
                return .unary("NOT", try parseNot())
            }
            return try parsePredicate()
        }

        static let comparisons: Set<String> = ["=", "==", "!=", "<>", "<", "<=", ">", ">="]

        mutating func parsePredicate() throws(ProvError) -> DfQuery.Expression {
            let left = try parseAdditive()
            let t = current
            if t.kind == .op, Self.comparisons.contains(t.text) {
                at += 1
                return .binary(t.text == "==" ? "=" : t.text, left, try parseAdditive())
            }
            if t.isKeyword("IS") {
                at += 1
                var op = "IS"
                if current.isKeyword("NOT") {
                    at += 1
                    op = "IS NOT"
                }
                return .binary(op, left, try parseAdditive())
            }
            var negated = false
            if t.isKeyword("NOT") {
                negated = true
                at += 1
            }
            if current.isKeyword("LIKE") || current.isKeyword("GLOB") {
                let op = current.text.uppercased()
                at += 1
                return .binary(negated ? "NOT " + op : op, left, try parseAdditive())
            }
            if current.isKeyword("BETWEEN") {
                at += 1
                let low = try parseAdditive()
                guard current.isKeyword("AND") else { throw fail("BETWEEN needs AND: x BETWEEN low AND high, found \(describe(current))") }
                at += 1
                return .between(left, not: negated, low, try parseAdditive())
            }
            if current.isKeyword("IN") {
                at += 1
                guard current.isOperator("(") else { throw fail("IN needs a list: x IN (a, b), found \(describe(current))") }
                at += 1
                var items: [DfQuery.Expression] = []
                if !current.isOperator(")") {
                    while true {
                        items.append(try parseAdditive())
                        if current.isOperator(",") {
                            at += 1
                            continue
                        }
                        break
                    }
                }
                guard current.isOperator(")") else { throw fail("expected ',' or ')' in the IN list, found \(describe(current))") }
                at += 1
                return .inList(left, not: negated, items)
            }
            if negated {
                throw fail("NOT here must be followed by LIKE, GLOB, BETWEEN or IN, found \(describe(current))")
            }
            return left
        }

        mutating func parseAdditive() throws(ProvError) -> DfQuery.Expression {
            var e = try parseMultiplicative()
            while current.isOperator("+") || current.isOperator("-") {
                let op = current.text
                at += 1
                e = .binary(op, e, try parseMultiplicative())
            }
            return e
        }

        mutating func parseMultiplicative() throws(ProvError) -> DfQuery.Expression {
            var e = try parseConcat()
            while current.isOperator("*") || current.isOperator("/") || current.isOperator("%") {
                let op = current.text
                at += 1
                e = .binary(op, e, try parseConcat())
            }
            return e
        }

        mutating func parseConcat() throws(ProvError) -> DfQuery.Expression {
            var e = try parseUnary()
            while current.isOperator("||") {
                at += 1
                e = .binary("||", e, try parseUnary())
            }
            return e
        }

        mutating func parseUnary() throws(ProvError) -> DfQuery.Expression {
            if current.isOperator("-") || current.isOperator("+") {
                let op = current.text
                try nest()
                defer { depth -= 1 }
                at += 1
                return .unary(op, try parseUnary())
            }
            return try parsePrimary()
        }

        static let reserved: Set<String> = ["AND", "OR", "NOT", "IS", "IN", "LIKE", "GLOB", "BETWEEN"]

        mutating func parsePrimary() throws(ProvError) -> DfQuery.Expression {
            let t = current
            switch t.kind {
            case .number:
                at += 1
                return .literal(.number(t.text))
            case .string:
                at += 1
                return .literal(.string(t.text))
            case .op where t.text == "(":
                at += 1
                let inner = try parseOr()
                guard current.isOperator(")") else { throw fail("expected ')', found \(describe(current))") }
                at += 1
                return .group(inner)
            case .word, .quoted:
                if t.kind == .word {
                    switch t.text.uppercased() {
                    case "NULL": at += 1; return .literal(.null)
                    case "TRUE": at += 1; return .literal(.bool(true))
                    case "FALSE": at += 1; return .literal(.bool(false))
                    case let k where Self.reserved.contains(k): throw fail("expected a value or an attribute before \(k)")
                    default: break
                    }
                }
                var parts: [DfQuery.Name] = []
                while true {
                    guard let name = current.name else {
                        throw fail("expected an attribute name after '.', found \(describe(current))")
                    }
                    parts.append(name)
                    at += 1
                    guard current.isOperator(".") else { break }
                    at += 1
                }
                if current.isOperator("(") {
                    throw fail("'\(DfQuery.Reference(parts))(' calls a function; selections compare attributes with values (write the SQL with POST /api/v1/query for more)")
                }
                return .column(DfQuery.Reference(parts))
            default:
                throw fail("expected a value or an attribute, found \(describe(t))")
            }
        }
    }
}

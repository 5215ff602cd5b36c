import DNNProvModel

/// A small SQL lexer: enough to tell statements apart, find the first keyword and the table
/// names a query uses, without being fooled by strings, quoted names or comments.
struct SQLToken: Equatable {
    enum Kind: Equatable {
        case word          // bare identifier or keyword
        case quoted        // "name", [name] or `name`
        case string        // 'text'
        case number
        case punctuation   // any other single character
    }

    var kind: Kind
    /// For words and quoted names: the name (unquoted); otherwise the text.
    var text: String
    /// Where the token stands in the source, as a UTF-8 offset range.
    var range: Range<Int>

    var isName: Bool { kind == .word || kind == .quoted }
    func isPunctuation(_ c: Character) -> Bool { kind == .punctuation && text == String(c) }
    func isKeyword(_ k: String) -> Bool { kind == .word && text.uppercased() == k }
}

enum SQLLexer {
    static func tokens(_ sql: String) throws(ProvError) -> [SQLToken] {
        let b = Array(sql.utf8)
        var out: [SQLToken] = []
        var i = 0
        func text(_ r: Range<Int>) -> String { String(decoding: b[r], as: UTF8.self) }
        while i < b.count {
            let c = b[i]
            if c == 32 || c == 9 || c == 10 || c == 13 || c == 12 {
                i += 1
            } else if c == UInt8(ascii: "-"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "-") {
                while i < b.count && b[i] != 10 { i += 1 }
            } else if c == UInt8(ascii: "/"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "*") {
                i += 2
                while i + 1 < b.count && !(b[i] == UInt8(ascii: "*") && b[i + 1] == UInt8(ascii: "/")) { i += 1 }
                i = min(i + 2, b.count)
            } else if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") || c == UInt8(ascii: "`") || c == UInt8(ascii: "[") {
                let close = c == UInt8(ascii: "[") ? UInt8(ascii: "]") : c
                let start = i
                i += 1
                var value: [UInt8] = []
                var closed = false
                while i < b.count {
                    if b[i] == close {
                        if close != UInt8(ascii: "]"), i + 1 < b.count, b[i + 1] == close {
                            value.append(close)
                            i += 2
                            continue
                        }
                        i += 1
                        closed = true
                        break
                    }
                    value.append(b[i])
                    i += 1
                }
                guard closed else { throw ProvError.badRequest("unterminated \(c == UInt8(ascii: "'") ? "string" : "quoted name") in SQL") }
                out.append(SQLToken(kind: c == UInt8(ascii: "'") ? .string : .quoted,
                                    text: String(decoding: value, as: UTF8.self), range: start..<i))
            } else if isWordStart(c) {
                let start = i
                while i < b.count && isWordByte(b[i]) { i += 1 }
                out.append(SQLToken(kind: .word, text: text(start..<i), range: start..<i))
            } else if c >= 48 && c <= 57 {
                let start = i
                while i < b.count && (isWordByte(b[i]) || b[i] == UInt8(ascii: ".")) { i += 1 }
                out.append(SQLToken(kind: .number, text: text(start..<i), range: start..<i))
            } else {
                // One character (multi-byte UTF-8 characters included).
                let start = i
                i += 1
                while i < b.count && (b[i] & 0xC0) == 0x80 { i += 1 }
                out.append(SQLToken(kind: .punctuation, text: text(start..<i), range: start..<i))
            }
        }
        return out
    }

    private static func isWordStart(_ c: UInt8) -> Bool {
        (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95 || c >= 0x80 || c == UInt8(ascii: "$")
    }
    private static func isWordByte(_ c: UInt8) -> Bool { isWordStart(c) || (c >= 48 && c <= 57) }
}


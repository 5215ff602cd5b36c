/// A PostgreSQL-aware lexer, just enough to find statement boundaries and the first keyword
/// without being fooled by strings (`'...'`, `E'...'` with backslash escapes, `$tag$...$tag$`),
/// quoted names or comments (`--`, nested `/* */`).
///
/// Unterminated strings or comments run to the end of the text: the server then reports the
/// syntax error in its own words, and nothing after them counts as a second statement.
enum PostgresQueryLexer {
    struct Token: Equatable {
        enum Kind: Equatable { case word, quoted, string, number, semicolon, other }
        var kind: Kind
        /// Words as written; other tokens' text is only meaningful for `other` (one character).
        var text: String
        /// UTF-8 offsets in the source.
        var range: Range<Int>
    }

    static func tokens(_ sql: String) -> [Token] {
        let b = Array(sql.utf8)
        var out: [Token] = []
        var i = 0
        func isWordStart(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95 || c >= 0x80 }
        func isWordByte(_ c: UInt8) -> Bool { isWordStart(c) || (c >= 48 && c <= 57) || c == UInt8(ascii: "$") }
        /// Skips a quoted run opened at `i` by `quote`; `backslash`: E'' strings escape with `\`.
        func skipQuoted(_ quote: UInt8, backslash: Bool) {
            i += 1
            while i < b.count {
                if backslash, b[i] == UInt8(ascii: "\\") {
                    i += 2
                    continue
                }
                if b[i] == quote {
                    if i + 1 < b.count, b[i + 1] == quote {
                        i += 2
                        continue
                    }
                    i += 1
                    return
                }
                i += 1
            }
            i = b.count
        }
        while i < b.count {
            let c = b[i]
            let start = i
            if c == 32 || c == 9 || c == 10 || c == 13 || c == 12 {
                i += 1
            } else if c == UInt8(ascii: "-"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "-") {
                while i < b.count && b[i] != 10 { i += 1 }
            } else if c == UInt8(ascii: "/"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "*") {
                // PostgreSQL's block comments nest.
                var depth = 0
                while i < b.count {
                    if b[i] == UInt8(ascii: "/"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "*") {
                        depth += 1
                        i += 2
                    } else if b[i] == UInt8(ascii: "*"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "/") {
                        depth -= 1
                        i += 2
                        if depth == 0 { break }
                    } else {
                        i += 1
                    }
                }
            } else if c == UInt8(ascii: "'") {
                skipQuoted(c, backslash: false)
                out.append(Token(kind: .string, text: "", range: start..<i))
            } else if c == UInt8(ascii: "\"") {
                skipQuoted(c, backslash: false)
                out.append(Token(kind: .quoted, text: "", range: start..<i))
            } else if c == UInt8(ascii: "$"), let tagEnd = dollarTagEnd(b, from: i) {
                // $tag$ ... $tag$: the body holds anything until the same tag comes back.
                let tag = Array(b[i..<tagEnd])
                i = tagEnd
                while i < b.count {
                    if b[i] == UInt8(ascii: "$"), i + tag.count <= b.count, Array(b[i..<(i + tag.count)]) == tag {
                        i += tag.count
                        break
                    }
                    i += 1
                }
                if i > b.count { i = b.count }
                out.append(Token(kind: .string, text: "", range: start..<i))
            } else if isWordStart(c) {
                // E'...' (and e'...'): the one string form where backslash escapes a quote.
                if (c == UInt8(ascii: "E") || c == UInt8(ascii: "e")), i + 1 < b.count, b[i + 1] == UInt8(ascii: "'") {
                    i += 1
                    skipQuoted(UInt8(ascii: "'"), backslash: true)
                    out.append(Token(kind: .string, text: "", range: start..<i))
                    continue
                }
                while i < b.count && isWordByte(b[i]) { i += 1 }
                out.append(Token(kind: .word, text: String(decoding: b[start..<i], as: UTF8.self), range: start..<i))
            } else if c >= 48 && c <= 57 {
                while i < b.count && (isWordByte(b[i]) || b[i] == UInt8(ascii: ".")) { i += 1 }
                out.append(Token(kind: .number, text: "", range: start..<i))
            } else if c == UInt8(ascii: ";") {
                i += 1
                out.append(Token(kind: .semicolon, text: ";", range: start..<i))
            } else {
                i += 1
                while i < b.count && (b[i] & 0xC0) == 0x80 { i += 1 }
                out.append(Token(kind: .other, text: String(decoding: b[start..<i], as: UTF8.self), range: start..<i))
            }
        }
        return out
    }

    /// The end of a dollar-quote opening tag at `i` (`$$` or `$name$`), or nil when `$` starts
    /// something else (a parameter such as `$1`).
    private static func dollarTagEnd(_ b: [UInt8], from i: Int) -> Int? {
        var j = i + 1
        if j < b.count, b[j] >= 48 && b[j] <= 57 { return nil }
        while j < b.count {
            let c = b[j]
            if c == UInt8(ascii: "$") { return j + 1 }
            let isTagByte = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95 || c >= 0x80 || (c >= 48 && c <= 57)
            guard isTagByte else { return nil }
            j += 1
        }
        return nil
    }
}

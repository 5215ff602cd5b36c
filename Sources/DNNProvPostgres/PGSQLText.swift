import DNNProvModel
import DNNProvStore
import Foundation

/// Statement text for PostgreSQL from the shared SQL, which writes SQLite's `?` placeholders:
/// arguments inlined as literals (deferred statements, sent many to a round trip) or numbered
/// `$1..$n` (statements that read, sent with typed binds).
///
/// The scan skips `'...'` literals (with `E'...'` backslash escapes), `"..."` identifiers,
/// `$tag$...$tag$` bodies and `--` / `/* */` comments, so a `?` in text is never taken for a
/// placeholder.
enum PGSQLText {
    struct Scanned {
        var text: String
        var placeholders: Int
        /// A `;` outside quotes and comments with more text after it: several statements.
        var hasInnerSemicolon: Bool
    }

    /// The statement with each placeholder replaced by what `replace` appends for it.
    static func scan(_ sql: String, _ replace: (Int, inout [UInt8]) throws -> Void) rethrows -> Scanned {
        let b = Array(sql.utf8)
        let n = b.count
        var out: [UInt8] = []
        out.reserveCapacity(n + 16)
        var i = 0
        var runStart = 0
        var count = 0
        var semicolonAt: Int?
        var textAfterSemicolon = false

        @inline(__always) func isIdent(_ c: UInt8) -> Bool {
            (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95 || c >= 128
        }
        /// Index just past the next `q` (quote), honouring backslash escapes when `escapes`.
        func skipQuoted(from start: Int, quote q: UInt8, escapes: Bool) -> Int {
            var j = start
            while j < n {
                if escapes && b[j] == UInt8(ascii: "\\") { j += 2; continue }
                if b[j] == q { return j + 1 }
                j += 1
            }
            return n
        }

        while i < n {
            let c = b[i]
            if semicolonAt != nil, !textAfterSemicolon, c != UInt8(ascii: " "), c != 10, c != 13, c != 9, c != UInt8(ascii: ";") {
                textAfterSemicolon = true
            }
            switch c {
            case UInt8(ascii: "'"):
                let escapes = i > 0 && (b[i - 1] == UInt8(ascii: "E") || b[i - 1] == UInt8(ascii: "e"))
                    && (i < 2 || !isIdent(b[i - 2]))
                i = skipQuoted(from: i + 1, quote: c, escapes: escapes)
            case UInt8(ascii: "\""):
                i = skipQuoted(from: i + 1, quote: c, escapes: false)
            case UInt8(ascii: "-") where i + 1 < n && b[i + 1] == UInt8(ascii: "-"):
                while i < n && b[i] != 10 { i += 1 }
            case UInt8(ascii: "/") where i + 1 < n && b[i + 1] == UInt8(ascii: "*"):
                i += 2
                while i + 1 < n && !(b[i] == UInt8(ascii: "*") && b[i + 1] == UInt8(ascii: "/")) { i += 1 }
                i = min(n, i + 2)
            case UInt8(ascii: "$") where i == 0 || !isIdent(b[i - 1]):
                // A dollar-quote tag: `$$` or `$name$` (a name never starts with a digit: `$1` is a parameter).
                var j = i + 1
                if j < n && b[j] >= 48 && b[j] <= 57 { i += 1; break }
                while j < n && isIdent(b[j]) && b[j] != UInt8(ascii: "$") { j += 1 }
                guard j < n && b[j] == UInt8(ascii: "$") else { i += 1; break }
                let tag = b[i...j]
                var k = j + 1
                var end = n
                while k + tag.count <= n {
                    if b[k] == UInt8(ascii: "$") && b[k..<(k + tag.count)].elementsEqual(tag) { end = k + tag.count; break }
                    k += 1
                }
                i = end
            case UInt8(ascii: ";"):
                if semicolonAt == nil { semicolonAt = i }
                i += 1
            case UInt8(ascii: "?"):
                out.append(contentsOf: b[runStart..<i])
                count += 1
                try replace(count, &out)
                i += 1
                runStart = i
            default:
                i += 1
            }
        }
        out.append(contentsOf: b[runStart..<n])
        return Scanned(text: String(decoding: out, as: UTF8.self), placeholders: count, hasInnerSemicolon: textAfterSemicolon)
    }

    /// The statement with its arguments written as literals.
    static func inline(_ sql: String, _ arguments: [SQLValue]) throws -> Scanned {
        let s = try scan(sql) { index, out in
            guard index <= arguments.count else { return }
            try appendLiteral(arguments[index - 1], to: &out)
        }
        guard s.placeholders == arguments.count else { throw placeholderMismatch(s.placeholders, arguments.count) }
        return s
    }

    /// The statement with `?` numbered `$1..$n` (PostgreSQL's placeholders).
    static func numbered(_ sql: String, arguments: Int) throws -> Scanned {
        let s = scan(sql) { index, out in out.append(contentsOf: "$\(index)".utf8) }
        guard s.placeholders == arguments else { throw placeholderMismatch(s.placeholders, arguments) }
        return s
    }

    static func placeholderMismatch(_ placeholders: Int, _ arguments: Int) -> ProvStoreError {
        .storage("a statement has \(placeholders) placeholders but \(arguments) arguments")
    }

    static let nulRefused = ProvError.unprocessable("text values cannot contain NUL characters (PostgreSQL)")

    /// `value` as a SQL literal. Reals are written with `Double.description`, which round-trips;
    /// the values PostgreSQL only reads as text (NaN, the infinities, -0) are typed float8 strings.
    /// Text relies on `standard_conforming_strings = on` (set at connect): only `'` is doubled.
    static func appendLiteral(_ value: SQLValue, to out: inout [UInt8]) throws {
        switch value {
        case .null:
            out.append(contentsOf: "NULL".utf8)
        case .integer(let i):
            out.append(contentsOf: String(i).utf8)
        case .real(let d):
            // A bare `-0` or `NaN` would be read as a numeric zero or a column name.
            let (text, quoted) = floatText(d)
            out.append(contentsOf: (quoted ? "'\(text)'::float8" : text).utf8)
        case .text(let s):
            out.append(UInt8(ascii: "'"))
            for c in s.utf8 {
                if c == 0 { throw nulRefused }
                if c == UInt8(ascii: "'") { out.append(c) }
                out.append(c)
            }
            out.append(UInt8(ascii: "'"))
        case .blob(let bytes):
            out.append(contentsOf: "'\\x".utf8)
            appendHex(bytes, to: &out)
            out.append(contentsOf: "'::bytea".utf8)
        }
    }

    /// A double as `float8in` reads it back exactly: NaN, the infinities and minus zero by name
    /// (`quoted`: a literal must quote them), others in Swift's shortest round-trip form.
    static func floatText(_ d: Double) -> (text: String, quoted: Bool) {
        if d.isNaN { return ("NaN", true) }
        if d.isInfinite { return (d > 0 ? "Infinity" : "-Infinity", true) }
        if d == 0 && d.sign == .minus { return ("-0", true) }
        return (d.description, false)
    }

    /// Bytes as lower-case hex digits (bytea's hex format, after its `\x`).
    static func appendHex(_ bytes: [UInt8], to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        for byte in bytes {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 15)])
        }
    }

    /// The first word of a statement, upper-cased, after blanks and comments.
    static func firstKeyword(_ sql: String) -> String {
        var s = Substring(sql)
        while true {
            s = s.drop(while: { $0.isWhitespace || $0 == "(" })
            if s.hasPrefix("--") {
                s = s.drop(while: { $0 != "\n" })
            } else if s.hasPrefix("/*"), let end = s.range(of: "*/") {
                s = s[end.upperBound...]
            } else {
                break
            }
        }
        return String(s.prefix(while: { $0.isLetter })).uppercased()
    }
}

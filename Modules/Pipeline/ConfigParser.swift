// A strict YAML subset for pipeline files. Supported: block mappings and sequences (indent with spaces),
// flow sequences [a, b] and flow maps {a: 1} on one line, plain / 'single' / "double" quoted scalars
// (double quotes take \n \t \" \\ \uXXXX escapes), # comments (whole line or after a space), null (~, null,
// empty), ${VAR} and ${VAR:-default} in plain and double-quoted scalars, CRLF line ends, a UTF-8 BOM.
// Not supported, and reported as errors rather than misread: tabs in indentation, anchors/aliases/tags,
// block scalars (| >), multi-line flow collections, duplicate keys. Scalars stay text here; the stage
// schema types them. Parsing never traps on any input: depth, line length and sizes are bounded.
import Foundation

public enum ConfigParser {
    public static let maxLineLength = 4096
    public static let maxDepth = 48
    public static let maxBytes = 4 << 20

    struct Line {
        let number: Int
        var indent: Int
        var content: String  // comment and trailing spaces removed
        var column: Int  // 1-based column where `content` starts
    }

    /// Parses a whole file. The root must be a mapping.
    ///
    ///     let root = try ConfigParser.parse(data, file: "digits.conf")
    public static func parse(
        _ data: Data, file: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ConfigNode {
        var p = Parser(file: file, env: environment)
        return try p.document(data)
    }

    struct Parser {
        let file: String
        let env: [String: String]
        var lines: [Line] = []
        var i = 0
        var depth = 0

        init(file: String, env: [String: String]) {
            self.file = file
            self.env = env
        }

        func pos(_ line: Int, _ col: Int) -> SourcePosition { SourcePosition(file: file, line: line, column: col) }
        func err(_ line: Int, _ col: Int, _ msg: String) -> ConfigError { ConfigError(pos(line, col), msg) }

        mutating func document(_ data: Data) throws -> ConfigNode {
            guard data.count <= maxBytes else {
                throw err(1, 1, "file is \(data.count) bytes; the limit is \(maxBytes)")
            }
            var bytes = [UInt8](data)
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
            var lineNo = 0
            var start = 0
            while start <= bytes.count {
                let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
                lineNo += 1
                var raw = Array(bytes[start..<end])
                if raw.last == 0x0D { raw.removeLast() }
                guard let text = String(bytes: raw, encoding: .utf8) else {
                    var col = 1
                    for k in 0..<raw.count
                    where String(bytes: raw[0...k], encoding: .utf8) == nil
                        && String(bytes: raw[0..<k], encoding: .utf8) != nil
                    {
                        col = k + 1
                        break
                    }
                    throw err(lineNo, col, "invalid UTF-8")
                }
                if raw.count > maxLineLength {
                    throw err(
                        lineNo, maxLineLength + 1, "line too long (\(raw.count) bytes; the limit is \(maxLineLength))")
                }
                if let l = try scanLine(text, lineNo) { lines.append(l) }
                if end == bytes.count { break }
                start = end + 1
            }
            if let first = lines.first, first.content == "---" { lines.removeFirst() }
            guard let first = lines.first else {
                throw err(1, 1, "empty config: expected 'stages:' with a list of stages")
            }
            guard first.indent == 0 else {
                throw err(first.number, first.column, "the first line must not be indented")
            }
            let root = try block()
            if i < lines.count {
                let l = lines[i]
                throw err(
                    l.number, l.column,
                    "inconsistent indentation (\(l.indent) spaces does not match any enclosing block)")
            }
            guard root.entries != nil else {
                throw ConfigError(root.position, "the top level must be a mapping (key: value lines)")
            }
            return root
        }

        /// Splits indentation, strips comments, checks quotes are closed. Returns nil for blank lines.
        func scanLine(_ text: String, _ n: Int) throws -> Line? {
            let chars = Array(text)
            var k = 0
            while k < chars.count && (chars[k] == " " || chars[k] == "\t") {
                if chars[k] == "\t" { throw err(n, k + 1, "tab character in indentation; indent with spaces") }
                k += 1
            }
            if let nul = chars.firstIndex(of: "\0") {
                throw err(n, nul + 1, "a NUL character (\\0) cannot be part of a value (paths would be cut at it)")
            }
            var out: [Character] = []
            var quote: Character? = nil
            var quoteCol = 0
            var j = k
            while j < chars.count {
                let c = chars[j]
                if let q = quote {
                    out.append(c)
                    if q == "\"" && c == "\\" && j + 1 < chars.count {
                        out.append(chars[j + 1])
                        j += 2
                        continue
                    }
                    if c == q {
                        if q == "'" && j + 1 < chars.count && chars[j + 1] == "'" {
                            out.append("'")
                            j += 2
                            continue
                        }
                        quote = nil
                    }
                    j += 1
                    continue
                }
                if c == "#" && (j == k || chars[j - 1] == " " || chars[j - 1] == "\t") { break }
                if c == "\"" || c == "'" {
                    let prev = out.last(where: { $0 != " " })
                    if prev == nil || [":", "-", "[", "{", ","].contains(prev!) {
                        quote = c
                        quoteCol = j + 1
                    }
                }
                out.append(c)
                j += 1
            }
            if quote != nil { throw err(n, quoteCol, "unclosed quote \(quote!)") }
            while let l = out.last, l == " " || l == "\t" { out.removeLast() }
            if out.isEmpty { return nil }
            return Line(number: n, indent: k, content: String(out), column: k + 1)
        }

        static func isSequenceItem(_ s: String) -> Bool { s == "-" || s.hasPrefix("- ") }

        mutating func enter(_ l: Line) throws {
            depth += 1
            if depth > maxDepth { throw err(l.number, l.column, "nesting deeper than \(maxDepth) levels") }
        }

        /// A block (mapping or sequence) starting at the current line's indentation.
        mutating func block() throws -> ConfigNode {
            let l = lines[i]
            try enter(l)
            defer { depth -= 1 }
            return Self.isSequenceItem(l.content) ? try sequence(l.indent) : try mapping(l.indent)
        }

        mutating func mapping(_ indent: Int) throws -> ConfigNode {
            let first = lines[i]
            var entries: [ConfigEntry] = []
            while i < lines.count {
                let l = lines[i]
                if l.indent < indent { break }
                if l.indent > indent {
                    throw err(
                        l.number, l.column, "inconsistent indentation: expected \(indent) spaces, found \(l.indent)")
                }
                if Self.isSequenceItem(l.content) {
                    throw err(l.number, l.column, "expected 'key: value' here, found a list item")
                }
                guard let colon = mappingColon(l.content) else {
                    throw err(l.number, l.column, "expected 'key: value', found '\(l.content.prefix(40))'")
                }
                let keyText = String(l.content.prefix(colon)).trimmingCharacters(in: .whitespaces)
                let key = try keyString(keyText, l.number, l.column)
                if let dup = entries.first(where: { $0.key == key }) {
                    throw err(
                        l.number, l.column, "duplicate key '\(key)' (first defined at line \(dup.keyPosition.line))")
                }
                let restStart = l.content.index(l.content.startIndex, offsetBy: colon + 1)
                let restRaw = String(l.content[restStart...])
                let lead = restRaw.prefix(while: { $0 == " " }).count
                let rest = String(restRaw.dropFirst(lead))
                let keyPos = pos(l.number, l.column)
                i += 1
                var value: ConfigNode
                if rest.isEmpty {
                    if i < lines.count
                        && (lines[i].indent > indent
                            || (lines[i].indent == indent && Self.isSequenceItem(lines[i].content)))
                    {
                        value = try block()
                    } else {
                        value = ConfigNode(.null, keyPos)
                    }
                } else {
                    value = try inline(rest, l.number, l.column + colon + 1 + lead)
                }
                entries.append(ConfigEntry(key: key, keyPosition: keyPos, value: value))
            }
            return ConfigNode(.map(entries), pos(first.number, first.column))
        }

        mutating func sequence(_ indent: Int) throws -> ConfigNode {
            let first = lines[i]
            var items: [ConfigNode] = []
            while i < lines.count {
                let l = lines[i]
                if l.indent < indent { break }
                if l.indent > indent {
                    throw err(
                        l.number, l.column, "inconsistent indentation: expected \(indent) spaces, found \(l.indent)")
                }
                // A line at the list's indent that is no item ends a list written at its key's indent
                // ("stages:" then "- …" at the same column); the enclosing mapping takes the line.
                guard Self.isSequenceItem(l.content) else { break }
                let after = String(l.content.dropFirst(1))
                let lead = after.prefix(while: { $0 == " " }).count
                let rest = String(after.dropFirst(lead))
                if rest.isEmpty {
                    i += 1
                    if i < lines.count && lines[i].indent > indent {
                        items.append(try block())
                    } else {
                        items.append(ConfigNode(.null, pos(l.number, l.column)))
                    }
                } else if Self.isSequenceItem(rest) || mappingColon(rest) != nil {
                    // "- key: value" opens a mapping whose keys align with `key`.
                    let col = l.indent + 1 + lead
                    lines[i] = Line(number: l.number, indent: col, content: rest, column: l.column + 1 + lead)
                    items.append(try block())
                } else {
                    i += 1
                    items.append(try inline(rest, l.number, l.column + 1 + lead))
                }
            }
            return ConfigNode(.list(items), pos(first.number, first.column))
        }

        /// Offset of the ':' that separates a mapping key (followed by space or end), outside quotes/brackets.
        func mappingColon(_ s: String) -> Int? {
            let c = Array(s)
            var quote: Character? = nil
            var depth = 0
            for k in 0..<c.count {
                let ch = c[k]
                if let q = quote {
                    if ch == q { quote = nil }
                    continue
                }
                if (ch == "\"" || ch == "'") && k == 0 {
                    quote = ch
                    continue
                }
                if ch == "[" || ch == "{" {
                    if k == 0 { return nil }
                    depth += 1
                }
                if ch == "]" || ch == "}" { depth -= 1 }
                if ch == ":" && depth == 0 && (k + 1 == c.count || c[k + 1] == " ") { return k }
            }
            return nil
        }

        func keyString(_ k: String, _ line: Int, _ col: Int) throws -> String {
            if k.isEmpty { throw err(line, col, "empty key before ':'") }
            if k.hasPrefix("\"") || k.hasPrefix("'") {
                var f = Flow(chars: Array(k), k: 0, line: line, col0: col, parser: self)
                let v = try f.quoted()
                guard f.k == f.chars.count else { throw err(line, col, "unexpected text after quoted key") }
                if case .scalar(let s, _) = v.value { return s }
            }
            return k
        }

        /// A value on the same line as its key or dash: flow collection, quoted or plain scalar.
        func inline(_ text: String, _ line: Int, _ col: Int) throws -> ConfigNode {
            var f = Flow(chars: Array(text), k: 0, line: line, col0: col, parser: self)
            let v = try f.value(inFlow: false, depth: depth)
            f.skipSpaces()
            if f.k < f.chars.count {
                throw err(line, col + f.k, "unexpected '\(f.chars[f.k])' after the value")
            }
            return v
        }

        /// Expands ${VAR} and ${VAR:-default}; a default may itself hold ${…} (expanded only when used).
        func expand(_ s: String, _ line: Int, _ col: Int) throws -> String {
            guard s.contains("${") else { return s }
            let c = Array(s)
            var out = ""
            var k = 0
            while k < c.count {
                guard c[k] == "$", k + 1 < c.count, c[k + 1] == "{" else {
                    out.append(c[k])
                    k += 1
                    continue
                }
                guard let close = Self.closingBrace(c, from: k) else {
                    throw err(line, col + k, "unclosed '${' (expected '}')")
                }
                let body = String(c[(k + 2)..<close])
                let name: String, def: String?
                if let d = body.range(of: ":-") {
                    name = String(body[..<d.lowerBound])
                    def = String(body[d.upperBound...])
                } else {
                    name = body
                    def = nil
                }
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw err(line, col + k, "invalid variable name '\(name)' in ${…}")
                }
                if let v = env[name], !(def != nil && v.isEmpty) {
                    out += v
                } else if let d = def {
                    out += try expand(d, line, col + k + 2 + name.count + 2)
                } else {
                    throw err(
                        line, col + k,
                        "environment variable \(name) is not set (write ${\(name):-default} to give a default)")
                }
                k = close + 1
            }
            return out
        }

        /// The index of the '}' that closes the '${' at `start`, counting nested '${…}'.
        static func closingBrace(_ c: [Character], from start: Int) -> Int? {
            var depth = 0, k = start
            while k < c.count {
                if c[k] == "$" && k + 1 < c.count && c[k + 1] == "{" {
                    depth += 1
                    k += 2
                    continue
                }
                if c[k] == "}" {
                    depth -= 1
                    if depth == 0 { return k }
                }
                k += 1
            }
            return nil
        }
    }

    /// Character-level parser for inline values and flow collections.
    struct Flow {
        let chars: [Character]
        var k: Int
        let line: Int, col0: Int
        let parser: Parser

        func here() -> SourcePosition { parser.pos(line, col0 + k) }
        func fail(_ m: String) -> ConfigError { ConfigError(here(), m) }
        mutating func skipSpaces() { while k < chars.count && chars[k] == " " { k += 1 } }

        mutating func value(inFlow: Bool, depth: Int) throws -> ConfigNode {
            guard depth < ConfigParser.maxDepth else {
                throw fail("nesting deeper than \(ConfigParser.maxDepth) levels")
            }
            skipSpaces()
            let start = here()
            guard k < chars.count else { return ConfigNode(.null, start) }
            switch chars[k] {
            case "[":
                k += 1
                var items: [ConfigNode] = []
                skipSpaces()
                if k < chars.count && chars[k] == "]" {
                    k += 1
                    return ConfigNode(.list(items), start)
                }
                while true {
                    items.append(try value(inFlow: true, depth: depth + 1))
                    skipSpaces()
                    guard k < chars.count else {
                        throw ConfigError(start, "unclosed '[' (flow lists must end on the same line)")
                    }
                    if chars[k] == "," {
                        k += 1
                        continue
                    }
                    if chars[k] == "]" {
                        k += 1
                        return ConfigNode(.list(items), start)
                    }
                    throw fail("expected ',' or ']' in list, found '\(chars[k])'")
                }
            case "{":
                k += 1
                var entries: [ConfigEntry] = []
                skipSpaces()
                if k < chars.count && chars[k] == "}" {
                    k += 1
                    return ConfigNode(.map(entries), start)
                }
                while true {
                    skipSpaces()
                    let keyPos = here()
                    let keyNode: ConfigNode
                    if k < chars.count && (chars[k] == "\"" || chars[k] == "'") {
                        keyNode = try quoted()
                    } else {
                        let s = k
                        while k < chars.count && !":,{}[]".contains(chars[k]) { k += 1 }
                        keyNode = ConfigNode(
                            .scalar(String(chars[s..<k]).trimmingCharacters(in: .whitespaces), quoted: false), keyPos)
                    }
                    guard case .scalar(let key, _) = keyNode.value, !key.isEmpty else {
                        throw ConfigError(keyPos, "expected a key in '{…}'")
                    }
                    skipSpaces()
                    guard k < chars.count else {
                        throw ConfigError(start, "unclosed '{' (flow maps must end on the same line)")
                    }
                    guard chars[k] == ":" else { throw fail("expected ':' after key '\(key)'") }
                    k += 1
                    if entries.contains(where: { $0.key == key }) {
                        throw ConfigError(keyPos, "duplicate key '\(key)'")
                    }
                    let v = try value(inFlow: true, depth: depth + 1)
                    entries.append(ConfigEntry(key: key, keyPosition: keyPos, value: v))
                    skipSpaces()
                    guard k < chars.count else {
                        throw ConfigError(start, "unclosed '{' (flow maps must end on the same line)")
                    }
                    if chars[k] == "," {
                        k += 1
                        continue
                    }
                    if chars[k] == "}" {
                        k += 1
                        return ConfigNode(.map(entries), start)
                    }
                    throw fail("expected ',' or '}' in mapping, found '\(chars[k])'")
                }
            case "\"", "'":
                return try quoted()
            case "&", "*", "!", "|", ">", "%", "@", "`":
                throw fail(
                    "'\(chars[k])' starts an unsupported YAML feature (anchors, tags, block scalars); quote the value")
            case "]", "}", ",":
                if inFlow { return ConfigNode(.null, start) }
                throw fail("unexpected '\(chars[k])'")
            default:
                let s = k
                while k < chars.count {
                    let c = chars[k]
                    // ${…} is one piece of the value, even inside a flow collection.
                    if c == "$", k + 1 < chars.count, chars[k + 1] == "{",
                        let close = Parser.closingBrace(chars, from: k)
                    {
                        k = close + 1
                        continue
                    }
                    if inFlow && (c == "," || c == "]" || c == "}") { break }
                    if c == ":" && (k + 1 == chars.count || chars[k + 1] == " ") {
                        throw fail("unexpected ': ' inside a value; quote the value if it contains ': '")
                    }
                    k += 1
                }
                let text = String(chars[s..<k]).trimmingCharacters(in: .whitespaces)
                if text == "~" || text == "null" || text == "Null" || text == "NULL" || text.isEmpty {
                    return ConfigNode(.null, start)
                }
                return ConfigNode(.scalar(try parser.expand(text, line, start.column), quoted: false), start)
            }
        }

        mutating func quoted() throws -> ConfigNode {
            let start = here()
            let q = chars[k]
            k += 1
            var out = ""
            while true {
                guard k < chars.count else { throw ConfigError(start, "unclosed quote \(q)") }
                let c = chars[k]
                if c == q {
                    if q == "'" && k + 1 < chars.count && chars[k + 1] == "'" {
                        out.append("'")
                        k += 2
                        continue
                    }
                    k += 1
                    break
                }
                if q == "\"" && c == "\\" {
                    guard k + 1 < chars.count else { throw ConfigError(start, "unclosed quote \"") }
                    let e = chars[k + 1]
                    k += 2
                    switch e {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "r": out.append("\r")
                    case "0":
                        k -= 2
                        throw fail("a NUL character (\\0) cannot be part of a value (paths would be cut at it)")
                    case "\"": out.append("\"")
                    case "\\": out.append("\\")
                    case "/": out.append("/")
                    case "u":
                        guard k + 4 <= chars.count, let v = UInt32(String(chars[k..<k + 4]), radix: 16),
                            let sc = Unicode.Scalar(v)
                        else { throw fail("invalid \\u escape (expected 4 hex digits)") }
                        out.unicodeScalars.append(sc)
                        k += 4
                    default:
                        k -= 2
                        throw fail("unknown escape '\\\(e)' in double-quoted string")
                    }
                    continue
                }
                out.append(c)
                k += 1
            }
            if q == "\"" { out = try parser.expand(out, line, start.column) }
            return ConfigNode(.scalar(out, quoted: true), start)
        }
    }
}

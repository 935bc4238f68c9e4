// JSON text for the hand-written JSON dlpipe emits (safetensors headers, JSON lines, reports): strings and numbers.
import Foundation

/// `s` as a quoted JSON string with the required escapes.
///
///     jsonQuoted("a\"b")   // "\"a\\\"b\""
public func jsonQuoted(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 {
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}

/// A number as JSON text: `format` (e.g. "%.6g") when given, else the shortest text that reads back as
/// the same Double (whole numbers without ".0"). NaN and infinities, which JSON cannot hold, are null.
///
///     jsonNumber(0.25)   // "0.25"     jsonNumber(3)   // "3"     jsonNumber(.nan)   // "null"
public func jsonNumber(_ x: Double, format: String? = nil) -> String {
    guard x.isFinite else { return "null" }
    if let format { return String(format: format, x) }
    return x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
}

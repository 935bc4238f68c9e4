// JSON read back: checkpoints, model files and reports hold JSON text in their metadata.
import Foundation

/// A JSON value decoded without losing the text of its numbers.
public indirect enum JSONValue: Decodable {
    case null, bool(Bool), number(String), string(String), array([JSONValue]), object([(String, JSONValue)])

    struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        if let o = try? decoder.container(keyedBy: Key.self) {
            self = .object(
                try o.allKeys.sorted { $0.stringValue < $1.stringValue }.map {
                    ($0.stringValue, try o.decode(JSONValue.self, forKey: $0))
                })
            return
        }
        if var a = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !a.isAtEnd { items.append(try a.decode(JSONValue.self)) }
            self = .array(items)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int.self) {
            self = .number(String(i))
        } else if let d = try? c.decode(Double.self) {
            self = .number("\(d)")
        } else {
            self = .string(try c.decode(String.self))
        }
    }

    /// Parses `text`; nil when it is not JSON.
    public static func parse(_ text: String) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }
}

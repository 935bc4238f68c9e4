// The layer list as JSON in the config's own shape ([{"conv": {"filters": 32, ...}}, {"maxpool": 2}]),
// and JSON turned back into a config tree, so a model file's architecture goes through
// LayerListParser with the same checks (and located errors) as a config file.
import Foundation
import Tensor
import Pipeline

extension LayerSpec {
    /// This layer as one JSON object, every setting spelled out.
    public var json: String {
        func obj(_ kind: String, _ fields: [(String, String)]) -> String {
            "{\(jsonQuoted(kind)):{" + fields.map { "\(jsonQuoted($0.0)):\($0.1)" }.joined(separator: ",") + "}}"
        }
        func act(_ a: ActivationSpec) -> [(String, String)] {
            [("activation", jsonQuoted(a.kind.rawValue))] + (a.kind == .leakyReLU ? [("slope", jsonNumber(a.slope))] : [])
        }
        func conv(_ c: ConvSpec, transposed: Bool) -> [(String, String)] {
            [("filters", "\(c.filters)"), ("size", "\(c.size)"), ("stride", "\(c.stride)"), ("padding", "\(c.padding)")]
                + (transposed ? [("output_padding", "\(c.outputPadding)")] : []) + act(c.activation) + [("bias", "\(c.bias)")]
        }
        switch self {
        case .conv(let c): return obj("conv", conv(c, transposed: false))
        case .convTranspose(let c): return obj("conv_transpose", conv(c, transposed: true))
        case .maxpool(let s): return obj("maxpool", [("size", "\(s)")])
        case .avgpool(let s): return obj("avgpool", [("size", "\(s)")])
        case let .dense(units, a, bias): return obj("dense", [("units", "\(units)")] + act(a) + [("bias", "\(bias)")])
        case .dropout(let r): return obj("dropout", [("rate", jsonNumber(r))])
        case .batchnorm: return obj("batchnorm", [])
        case .flatten: return obj("flatten", [])
        case .meanOverTime: return obj("mean_over_time", [])
        case .activation(let a): return obj("activation", [("kind", jsonQuoted(a.kind.rawValue))] + (a.kind == .leakyReLU ? [("slope", jsonNumber(a.slope))] : []))
        case .reshape(let s): return obj("reshape", [("shape", "[" + s.map(String.init).joined(separator: ",") + "]")])
        case let .embedding(v, d): return obj("embedding", [("vocabulary", "\(v)"), ("size", "\(d)")])
        case .recurrent(let r):
            // "bidirectional" only when set, so a forward model's file is as before.
            return obj(r.kind.rawValue, [("hidden", "\(r.hidden)"), ("layers", "\(r.layers)"), ("sequence", "\(r.sequence)")]
                       + (r.bidirectional ? [("bidirectional", "true")] : []))
        }
    }

    /// A whole list as a JSON array.
    public static func json(_ layers: [LayerSpec]) -> String { "[" + layers.map { $0.json }.joined(separator: ",") + "]" }
}


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
            self = .object(try o.allKeys.sorted { $0.stringValue < $1.stringValue }.map { ($0.stringValue, try o.decode(JSONValue.self, forKey: $0)) })
            return
        }
        if var a = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !a.isAtEnd { items.append(try a.decode(JSONValue.self)) }
            self = .array(items)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .number(String(i)) }
        else if let d = try? c.decode(Double.self) { self = .number("\(d)") }
        else { self = .string(try c.decode(String.self)) }
    }

    /// Parses `text`; nil when it is not JSON.
    public static func parse(_ text: String) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }

    /// The config tree this value stands for; every node is placed at `position`.
    func configNode(at position: SourcePosition) -> ConfigNode {
        switch self {
        case .null: return ConfigNode(.null, position)
        case .bool(let b): return ConfigNode(.scalar(b ? "true" : "false", quoted: false), position)
        case .number(let t): return ConfigNode(.scalar(t, quoted: false), position)
        case .string(let s): return ConfigNode(.scalar(s, quoted: true), position)
        case .array(let items):
            return ConfigNode(.list(items.enumerated().map { i, v in
                v.configNode(at: SourcePosition(file: position.file, line: i + 1, column: 1))
            }), position)
        case .object(let fields):
            return ConfigNode(.map(fields.map { ConfigEntry(key: $0.0, keyPosition: position, value: $0.1.configNode(at: position)) }), position)
        }
    }
}

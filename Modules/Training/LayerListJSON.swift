// The layer list as JSON in the config's own shape ([{"conv": {"filters": 32, ...}}, {"maxpool": 2}]),
// and JSON (JSONValue) turned back into a config tree, so a model file's architecture goes through
// LayerListParser with the same checks (and located errors) as a config file.
import Foundation
import Tensor
import Pipeline
import FilesAndText

extension LayerSpec {
    /// This layer as one JSON object, every setting spelled out.
    public var json: String {
        func obj(_ kind: String, _ fields: [(String, String)]) -> String {
            "{\(jsonQuoted(kind)):{" + fields.map { "\(jsonQuoted($0.0)):\($0.1)" }.joined(separator: ",") + "}}"
        }
        func act(_ a: ActivationSpec) -> [(String, String)] {
            [("activation", jsonQuoted(a.kind.rawValue))]
                + (a.kind == .leakyReLU ? [("slope", jsonNumber(a.slope))] : [])
        }
        func conv(_ c: ConvSpec, transposed: Bool) -> [(String, String)] {
            [
                ("filters", "\(c.filters)"), ("size", "\(c.size)"), ("stride", "\(c.stride)"),
                ("padding", "\(c.padding)"),
            ]
                + (transposed ? [("output_padding", "\(c.outputPadding)")] : []) + act(c.activation) + [
                    ("bias", "\(c.bias)")
                ]
        }
        switch self {
        case .conv(let c): return obj("conv", conv(c, transposed: false))
        case .convTranspose(let c): return obj("conv_transpose", conv(c, transposed: true))
        case .conv1d(let c): return obj("conv1d", conv(c, transposed: false))
        case .maxpool(let s): return obj("maxpool", [("size", "\(s)")])
        case .avgpool(let s): return obj("avgpool", [("size", "\(s)")])
        case let .dense(units, a, bias): return obj("dense", [("units", "\(units)")] + act(a) + [("bias", "\(bias)")])
        case .dropout(let r): return obj("dropout", [("rate", jsonNumber(r))])
        case .batchnorm: return obj("batchnorm", [])
        case .flatten: return obj("flatten", [])
        case .meanOverTime: return obj("mean_over_time", [])
        case .activation(let a):
            return obj(
                "activation",
                [("kind", jsonQuoted(a.kind.rawValue))] + (a.kind == .leakyReLU ? [("slope", jsonNumber(a.slope))] : [])
            )
        case .reshape(let s): return obj("reshape", [("shape", "[" + s.map(String.init).joined(separator: ",") + "]")])
        case let .embedding(v, d): return obj("embedding", [("vocabulary", "\(v)"), ("size", "\(d)")])
        case .recurrent(let r):
            // "bidirectional" only when set, so a forward model's file is as before.
            return obj(
                r.kind.rawValue,
                [("hidden", "\(r.hidden)"), ("layers", "\(r.layers)"), ("sequence", "\(r.sequence)")]
                    + (r.bidirectional ? [("bidirectional", "true")] : []))
        }
    }

    /// A whole list as a JSON array.
    public static func json(_ layers: [LayerSpec]) -> String {
        "[" + layers.map { $0.json }.joined(separator: ",") + "]"
    }
}

extension JSONValue {
    /// The config tree this value stands for; every node is placed at `position`.
    func configNode(at position: SourcePosition) -> ConfigNode {
        switch self {
        case .null: return ConfigNode(.null, position)
        case .bool(let b): return ConfigNode(.scalar(b ? "true" : "false", quoted: false), position)
        case .number(let t): return ConfigNode(.scalar(t, quoted: false), position)
        case .string(let s): return ConfigNode(.scalar(s, quoted: true), position)
        case .array(let items):
            return ConfigNode(
                .list(
                    items.enumerated().map { i, v in
                        v.configNode(at: SourcePosition(file: position.file, line: i + 1, column: 1))
                    }), position)
        case .object(let fields):
            return ConfigNode(
                .map(
                    fields.map { ConfigEntry(key: $0.0, keyPosition: position, value: $0.1.configNode(at: position)) }),
                position)
        }
    }
}

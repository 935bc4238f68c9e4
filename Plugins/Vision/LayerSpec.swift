// The network as a short list in the config, Darknet-style:
//
//     layers:
//       - conv: {filters: 32, size: 3}
//       - maxpool: 2
//       - conv: {filters: 64, size: 3}
//       - maxpool: 2
//       - dense: 64
//       - dropout: 0.2
//
// The final dense layer (one output per class) is added automatically.
import Foundation
import Pipeline

public enum LayerSpec: Equatable, Codable {
    case conv(filters: Int, size: Int, stride: Int, padding: Int, activation: String)
    case maxpool(size: Int)
    case avgpool(size: Int)
    case dense(units: Int, activation: String)
    case dropout(rate: Double)
    case batchnorm

    /// The seed CNN: Conv(32,3×3,ReLU) → MaxPool 2 → Conv(64,3×3,ReLU) → MaxPool 2 → Dense(64,ReLU).
    public static let seedCNN: [LayerSpec] = [
        .conv(filters: 32, size: 3, stride: 1, padding: 0, activation: "relu"), .maxpool(size: 2),
        .conv(filters: 64, size: 3, stride: 1, padding: 0, activation: "relu"), .maxpool(size: 2),
        .dense(units: 64, activation: "relu"),
    ]

    static let activations = ["relu", "none", "leaky_relu", "tanh", "sigmoid"]

    /// Parses and checks a `layers:` list, with positions in every error.
    public static func parse(_ node: ConfigNode) throws -> [LayerSpec] {
        guard let items = node.items, !items.isEmpty else {
            throw ConfigError(node.position, "layers must be a non-empty list like '- conv: {filters: 32, size: 3}', found \(node.kindName)")
        }
        return try items.map(parseOne)
    }

    static func parseOne(_ item: ConfigNode) throws -> LayerSpec {
        let kinds = ["conv", "maxpool", "avgpool", "dense", "dropout", "batchnorm"]
        guard let e = item.entries, e.count == 1 else {
            throw ConfigError(item.position, "a layer is one of \(kinds.joined(separator: ", ")) with its settings, e.g. '- dense: 64'")
        }
        let kind = e[0].key, v = e[0].value
        func int(_ n: ConfigNode?, _ name: String, _ r: ClosedRange<Int>, default d: Int? = nil) throws -> Int {
            guard let n else {
                if let d { return d }
                throw ConfigError(v.position, "\(kind) needs '\(name)'")
            }
            guard let t = n.text, let x = Int(t) else { throw ConfigError(n.position, "\(kind).\(name) must be an integer, found \(n.kindName)") }
            guard r.contains(x) else { throw ConfigError(n.position, "\(kind).\(name) = \(x) is out of range \(r.lowerBound)…\(r.upperBound)") }
            return x
        }
        func keys(_ allowed: [String]) throws {
            for k in v.entries ?? [] where !allowed.contains(k.key) {
                let hint = closestMatch(k.key, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                throw ConfigError(k.keyPosition, "\(kind) has no setting '\(k.key)'\(hint); allowed: \(allowed.joined(separator: ", "))")
            }
        }
        func activation(_ d: String) throws -> String {
            guard let n = v["activation"] else { return d }
            guard let t = n.text, activations.contains(t) else {
                throw ConfigError(n.position, "activation must be one of \(activations.joined(separator: ", ")), found \(n.kindName)")
            }
            return t
        }
        switch kind {
        case "conv":
            guard v.entries != nil else { throw ConfigError(v.position, "conv needs settings, e.g. {filters: 32, size: 3}") }
            try keys(["filters", "size", "stride", "padding", "activation"])
            return .conv(filters: try int(v["filters"], "filters", 1...4096), size: try int(v["size"], "size", 1...15),
                         stride: try int(v["stride"], "stride", 1...8, default: 1),
                         padding: try int(v["padding"], "padding", 0...15, default: 0), activation: try activation("relu"))
        case "maxpool", "avgpool":
            let s = v.entries != nil ? try { try keys(["size"]); return try int(v["size"], "size", 1...16) }() : try int(v, "size", 1...16)
            return kind == "maxpool" ? .maxpool(size: s) : .avgpool(size: s)
        case "dense":
            if v.entries != nil {
                try keys(["units", "activation"])
                return .dense(units: try int(v["units"], "units", 1...65536), activation: try activation("relu"))
            }
            return .dense(units: try int(v, "units", 1...65536), activation: "relu")
        case "dropout":
            guard let t = v.text, let r = Double(t), r >= 0, r < 1 else {
                throw ConfigError(v.position, "dropout takes a rate in [0, 1), found \(v.kindName)")
            }
            return .dropout(rate: r)
        case "batchnorm":
            guard case .null = v.value else { throw ConfigError(v.position, "batchnorm takes no settings (write '- batchnorm:')") }
            return .batchnorm
        default:
            let hint = closestMatch(kind, in: kinds).map { " (did you mean '\($0)'?)" } ?? ""
            throw ConfigError(e[0].keyPosition, "unknown layer '\(kind)'\(hint); layers: \(kinds.joined(separator: ", "))")
        }
    }
}

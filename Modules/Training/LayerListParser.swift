// Reads a `layers:` list (from a config, or from a model file's metadata turned into the same tree)
// into typed LayerSpecs. Every error carries the position of the offending value.
import Pipeline

public enum LayerListParser {
    public static let kinds = [
        "conv", "conv_transpose", "conv1d", "maxpool", "avgpool", "dense", "dropout", "batchnorm",
        "activation", "flatten", "reshape", "embedding", "lstm", "gru",
        "mean_over_time",
    ]

    /// Parses and range-checks a non-empty layer list.
    public static func parse(_ node: ConfigNode) throws -> [LayerSpec] {
        guard let items = node.items, !items.isEmpty else {
            throw ConfigError(
                node.position,
                "layers must be a non-empty list like '- conv: {filters: 32, size: 3}', found \(node.kindName)")
        }
        return try items.map(parseOne)
    }

    static func parseOne(_ item: ConfigNode) throws -> LayerSpec {
        guard let e = item.entries, e.count == 1 else {
            throw ConfigError(
                item.position,
                "a layer is one of \(kinds.joined(separator: ", ")) with its settings, e.g. '- dense: 64'")
        }
        let s = LayerSettings(kind: e[0].key, node: e[0].value)
        switch s.kind {
        case "conv", "conv_transpose":
            guard s.node.entries != nil else {
                throw ConfigError(s.node.position, "\(s.kind) needs settings, e.g. {filters: 32, size: 3}")
            }
            let transposed = s.kind == "conv_transpose"
            try s.allow(
                ["filters", "size", "stride", "padding", "activation", "slope", "bias"]
                    + (transposed ? ["output_padding"] : []))
            let c = ConvSpec(
                filters: try s.int("filters", LayerLimits.filters), size: try s.int("size", LayerLimits.kernelSize),
                stride: try s.int("stride", LayerLimits.stride, default: 1),
                padding: try s.int("padding", LayerLimits.padding, default: 0),
                outputPadding: transposed ? try s.int("output_padding", LayerLimits.padding, default: 0) : 0,
                activation: try s.activation(default: transposed ? .none : .relu),
                bias: try s.bool("bias", default: true))
            if transposed && c.outputPadding >= c.stride {
                throw ConfigError(
                    s.node.position, "conv_transpose.output_padding must be smaller than its stride (\(c.stride))")
            }
            return transposed ? .convTranspose(c) : .conv(c)
        case "conv1d":
            guard s.node.entries != nil else {
                throw ConfigError(s.node.position, "conv1d needs settings, e.g. {filters: 64, size: 5, padding: 2}")
            }
            try s.allow(["filters", "size", "stride", "padding", "activation", "slope", "bias"])
            return .conv1d(
                ConvSpec(
                    filters: try s.int("filters", LayerLimits.filters), size: try s.int("size", LayerLimits.kernelSize),
                    stride: try s.int("stride", LayerLimits.stride, default: 1),
                    padding: try s.int("padding", LayerLimits.padding, default: 0),
                    activation: try s.activation(default: .relu), bias: try s.bool("bias", default: true)))
        case "maxpool", "avgpool":
            let size = try s.shorthandOrSetting("size", LayerLimits.poolSize)
            return s.kind == "maxpool" ? .maxpool(size: size) : .avgpool(size: size)
        case "dense":
            if s.node.entries != nil {
                try s.allow(["units", "activation", "slope", "bias"])
                return .dense(
                    units: try s.int("units", LayerLimits.units), activation: try s.activation(default: .relu),
                    bias: try s.bool("bias", default: true))
            }
            return .dense(units: try s.integer(s.node, "units", LayerLimits.units), activation: .relu, bias: true)
        case "dropout":
            let n =
                s.node.entries != nil
                ? try {
                    try s.allow(["rate"])
                    return s.node["rate"] ?? s.node
                }() : s.node
            guard let t = n.text, let r = Double(t), r >= 0, r < 1 else {
                throw ConfigError(n.position, "dropout takes a rate in [0, 1), found \(n.kindName)")
            }
            return .dropout(rate: r)
        case "batchnorm", "flatten", "mean_over_time":
            try s.noSettings()
            return s.kind == "batchnorm" ? .batchnorm : s.kind == "flatten" ? .flatten : .meanOverTime
        case "activation":
            if let name = s.node.text { return .activation(try LayerSettings.activationKind(name, at: s.node)) }
            try s.allow(["kind", "slope"])
            guard let k = s.node["kind"] else {
                throw ConfigError(s.node.position, "activation needs 'kind', e.g. {kind: leaky_relu, slope: 0.2}")
            }
            return .activation(try s.activation(kindNode: k))
        case "reshape":
            let list =
                s.node.entries != nil
                ? try {
                    try s.allow(["shape"])
                    return s.node["shape"] ?? s.node
                }() : s.node
            guard let dims = list.items, (1...3).contains(dims.count) else {
                throw ConfigError(
                    list.position, "reshape takes the shape of one example, e.g. [256, 7, 7], found \(list.kindName)")
            }
            return .reshape(try dims.map { try s.integer($0, "shape", LayerLimits.reshapeDimension) })
        case "lstm", "gru":
            guard s.node.entries != nil else {
                throw ConfigError(s.node.position, "\(s.kind) needs settings, e.g. {hidden: 64, layers: 2}")
            }
            try s.allow(["hidden", "layers", "sequence", "bidirectional"])
            return .recurrent(
                RecurrentSpec(
                    s.kind == "lstm" ? .lstm : .gru, hidden: try s.int("hidden", LayerLimits.hidden),
                    layers: try s.int("layers", LayerLimits.recurrentLayers, default: 1),
                    sequence: try s.bool("sequence", default: false),
                    bidirectional: try s.bool("bidirectional", default: false)))
        case "embedding":
            try s.allow(["vocabulary", "size"])
            return .embedding(
                vocabulary: try s.int("vocabulary", LayerLimits.vocabulary),
                size: try s.int("size", LayerLimits.embeddingSize))
        default:
            let hint = closestMatch(s.kind, in: kinds).map { " (did you mean '\($0)'?)" } ?? ""
            throw ConfigError(
                e[0].keyPosition, "unknown layer '\(s.kind)'\(hint); layers: \(kinds.joined(separator: ", "))")
        }
    }
}

/// One layer's settings node with typed, range-checked accessors.
struct LayerSettings {
    let kind: String
    let node: ConfigNode

    func allow(_ allowed: [String]) throws {
        for k in node.entries ?? [] where !allowed.contains(k.key) {
            let hint = closestMatch(k.key, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
            throw ConfigError(
                k.keyPosition, "\(kind) has no setting '\(k.key)'\(hint); allowed: \(allowed.joined(separator: ", "))")
        }
    }

    func noSettings() throws {
        switch node.value {
        case .null: return
        case .map(let m) where m.isEmpty: return
        default: throw ConfigError(node.position, "\(kind) takes no settings (write '- \(kind):')")
        }
    }

    func integer(_ n: ConfigNode, _ name: String, _ r: ClosedRange<Int>) throws -> Int {
        guard let t = n.text, let x = Int(t) else {
            throw ConfigError(n.position, "\(kind).\(name) must be an integer, found \(n.kindName)")
        }
        guard r.contains(x) else {
            throw ConfigError(n.position, "\(kind).\(name) = \(x) is out of range \(r.lowerBound)…\(r.upperBound)")
        }
        return x
    }

    func int(_ name: String, _ r: ClosedRange<Int>, default d: Int? = nil) throws -> Int {
        guard let n = node[name] else {
            if let d { return d }
            throw ConfigError(node.position, "\(kind) needs '\(name)'")
        }
        return try integer(n, name, r)
    }

    /// `- maxpool: 2` or `- maxpool: {size: 2}`.
    func shorthandOrSetting(_ name: String, _ r: ClosedRange<Int>) throws -> Int {
        guard node.entries != nil else { return try integer(node, name, r) }
        try allow([name])
        return try int(name, r)
    }

    func bool(_ name: String, default d: Bool) throws -> Bool {
        guard let n = node[name] else { return d }
        guard let t = n.text, t == "true" || t == "false" else {
            throw ConfigError(n.position, "\(kind).\(name) must be true or false, found \(n.kindName)")
        }
        return t == "true"
    }

    static func activationKind(_ name: String, at n: ConfigNode) throws -> ActivationSpec {
        guard let k = ActivationSpec.Kind(rawValue: name) else {
            let names = ActivationSpec.Kind.allCases.map { $0.rawValue }
            let hint = closestMatch(name, in: names).map { " (did you mean '\($0)'?)" } ?? ""
            throw ConfigError(
                n.position, "activation must be one of \(names.joined(separator: ", ")), found '\(name)'\(hint)")
        }
        return ActivationSpec(k)
    }

    /// The `activation` setting (default `d`) with its `slope`.
    func activation(default d: ActivationSpec) throws -> ActivationSpec {
        guard let k = node["activation"] else {
            if node["slope"] != nil { throw ConfigError(node.position, "\(kind).slope needs activation: leaky_relu") }
            return d
        }
        return try activation(kindNode: k)
    }

    func activation(kindNode k: ConfigNode) throws -> ActivationSpec {
        guard let name = k.text else {
            throw ConfigError(k.position, "activation must be a name such as relu, found \(k.kindName)")
        }
        var a = try Self.activationKind(name, at: k)
        if let s = node["slope"] {
            guard a.kind == .leakyReLU else { throw ConfigError(s.position, "slope applies to leaky_relu only") }
            guard let t = s.text, let v = Double(t), LayerLimits.slope.contains(v) else {
                throw ConfigError(s.position, "slope must be a number in 0…10, found \(s.kindName)")
            }
            a.slope = v
        }
        return a
    }
}

// A trained model on disk: safetensors weights under PyTorch state_dict names, plus metadata that
// rebuilds the network — format and version, the layer list, the input shape, the labels and the
// preprocessing the inputs went through. Loading trusts nothing: every metadata field is checked
// with the ranges a config gets (the layer list goes through the config's own parser), then the
// weights must match the rebuilt network name for name and shape, and be finite.
import Foundation
import Tensor
import NN
import Pipeline
import FilesAndText

public struct ModelFileError: Error, CustomStringConvertible {
    public let file: String, message: String
    public init(_ file: String, _ message: String) {
        self.file = file
        self.message = message
    }
    public var description: String { "\(file): \(message)" }
}

public struct ModelFile: Equatable {
    public static let format = "dlpipe.model"
    public static let version = 2
    /// Files written by the first Vision plugin (same weights, the output layer implied).
    static let visionV1 = "dlpipe.vision.v1"

    /// Which stage wrote it (e.g. "vision.train"): what the model is for.
    public var task: String
    /// The whole network, output layer included.
    public var layers: [LayerSpec]
    public var inputShape: [Int]
    /// Class names, in output order (empty for models that do not classify).
    public var labels: [String]
    /// How inputs were prepared, as stage name → settings, so a user can prepare new inputs alike.
    public var preprocessing: [String: String]
    /// The held-out figures of the run that wrote it (test_accuracy, test_bits_per_char…), for a service to
    /// report; empty when unknown.
    public var results: [String: Double] = [:]
    /// How many networks of these layers the file holds (an ensemble trained with `members: N`): each
    /// member's tensors are under "member<i>." so PyTorch loads them member by member.
    public var members = 1
    static let memberLimit = 1...16

    public init(
        task: String, layers: [LayerSpec], inputShape: [Int], labels: [String] = [],
        preprocessing: [String: String] = [:]
    ) {
        self.task = task
        self.layers = layers
        self.inputShape = inputShape
        self.labels = labels
        self.preprocessing = preprocessing
    }

    public var metadata: [String: String] {
        var m = [
            "format": Self.format, "version": String(Self.version), "task": task,
            "layers": LayerSpec.json(layers),
            "input": "[" + inputShape.map(String.init).joined(separator: ",") + "]",
            "labels": "[" + labels.map(jsonQuoted).joined(separator: ",") + "]",
            "preprocessing": "{"
                + preprocessing.sorted { $0.key < $1.key }.map { "\(jsonQuoted($0.key)):\(jsonQuoted($0.value))" }
                .joined(separator: ",") + "}",
            "results": "{"
                + results.sorted { $0.key < $1.key }.map {
                    "\(jsonQuoted($0.key)):\(jsonNumber($0.value, format: "%.6g"))"
                }
                .joined(separator: ",") + "}",
        ]
        if members > 1 { m["members"] = String(members) }
        return m
    }

    /// The tensors of `networks` (one per member) under their file names.
    public static func tensors(of networks: [Network]) -> [(String, Tensor)] {
        networks.count == 1
            ? networks[0].stateDict()
            : networks.enumerated().flatMap { i, net in net.stateDict().map { ("member\(i).\($0.0)", $0.1) } }
    }

    /// This description with the number-valued fields of a report's results (`test_accuracy`, …).
    public func withResults(of report: TrainingReport) -> ModelFile {
        var m = self
        for (k, v) in report.results { if let x = Double(v), x.isFinite { m.results[k] = x } }
        return m
    }

    /// Writes the network's weights with this description, atomically.
    public func save(_ net: Network, to path: String) throws {
        try makeParentFolder(path)
        try net.save(to: path, metadata: metadata)
    }

    /// Reads a model file of one network and rebuilds it in evaluation mode.
    ///
    ///     let (net, model) = try ModelFile.load("models/digits.safetensors")
    public static func load(_ path: String) throws -> (Network, ModelFile) {
        let (nets, model) = try loadMembers(path)
        guard nets.count == 1 else {
            throw ModelFileError(
                path,
                "holds an ensemble of \(nets.count) networks; only a classify stage averages an ensemble's members")
        }
        return (nets[0], model)
    }

    /// Reads a model file and rebuilds each of its networks (one, or an ensemble's members) in evaluation mode.
    public static func loadMembers(_ path: String) throws -> ([Network], ModelFile) {
        let (tensors, meta) = try Safetensors.read(path)
        let model = try ModelFile(metadata: meta, file: path)
        for (name, t) in tensors where !t.scalars.allSatisfy({ $0.isFinite }) {
            throw ModelFileError(path, "tensor '\(name)' holds NaN or infinite values")
        }
        var nets: [Network] = []
        for i in 0..<model.members {
            let net: Network
            do { net = try Network(layers: model.layers, inputShape: model.inputShape, seed: 0) } catch {
                throw ModelFileError(path, "metadata 'layers' does not build: \(error)")
            }
            // A classifier has one output per label; a character model one per label at every step.
            if !model.labels.isEmpty && net.outputShape.last != model.labels.count {
                throw ModelFileError(
                    path,
                    "metadata 'labels' names \(model.labels.count) classes but the network has \(net.outputShape) outputs"
                )
            }
            if model.members == 1 {
                try net.load(tensors, file: path)
            } else {
                try net.load(
                    memberTensors(tensors, member: i, of: model.members, file: path), file: path + " (member \(i))")
            }
            net.eval()
            nets.append(net)
        }
        return (nets, model)
    }

    /// Member `i`'s tensors without their prefix; a tensor that belongs to no member is refused.
    static func memberTensors(_ tensors: [String: Tensor], member i: Int, of n: Int, file: String) throws
        -> [String: Tensor]
    {
        var mine: [String: Tensor] = [:]
        for (name, t) in tensors {
            guard name.hasPrefix("member"), let dot = name.firstIndex(of: "."),
                let k = Int(name[name.index(name.startIndex, offsetBy: 6)..<dot]), (0..<n).contains(k)
            else {
                throw ModelFileError(
                    file, "tensor '\(name)' belongs to none of the \(n) members (member0. … member\(n - 1).)")
            }
            if k == i { mine[String(name[name.index(after: dot)...])] = t }
        }
        return mine
    }

    /// Checks and decodes every metadata field; errors name the field.
    public init(metadata meta: [String: String], file: String) throws {
        func fail(_ m: String) -> ModelFileError { ModelFileError(file, m) }
        func json(_ key: String) throws -> JSONValue {
            guard let s = meta[key] else { throw fail("not a dlpipe model (no '\(key)' in its metadata)") }
            guard let v = JSONValue.parse(s) else { throw fail("metadata '\(key)' is not valid JSON") }
            return v
        }
        let v1 = meta["format"] == Self.visionV1
        guard meta["format"] == Self.format || v1 else {
            throw fail("not a dlpipe model (format '\(meta["format"] ?? "none")'; expected '\(Self.format)')")
        }
        if !v1 {
            guard let vs = meta["version"], let version = Int(vs) else {
                throw fail("metadata 'version' is missing or not a number")
            }
            guard version <= Self.version else {
                throw fail(
                    "model format version \(version) is newer than this dlpipe reads (\(Self.version)); update dlpipe")
            }
        }
        task = v1 ? "vision.train" : (meta["task"] ?? "")
        guard !task.isEmpty, task.count <= 64 else { throw fail("metadata 'task' is missing or too long") }

        guard case .array(let dims) = try json("input"), (1...3).contains(dims.count) else {
            throw fail("metadata 'input' must be a list of 1 to 3 dimensions")
        }
        inputShape = try dims.map { d in
            guard case .number(let t) = d, let n = Int(t), LayerLimits.inputDimension.contains(n) else {
                throw fail("metadata 'input' holds a dimension outside 1…\(LayerLimits.inputDimension.upperBound)")
            }
            return n
        }
        guard LayerLimits.inputElements.contains(inputShape.reduce(1, *)) else {
            throw fail("metadata 'input' \(inputShape) is larger than \(LayerLimits.inputElements.upperBound) values")
        }

        guard case .array(let names) = try json(v1 ? "classes" : "labels") else {
            throw fail("metadata 'labels' must be a list of strings")
        }
        labels = try names.map { n in
            guard case .string(let s) = n, !s.isEmpty, s.utf8.count <= 256 else {
                throw fail("metadata 'labels' must hold non-empty strings of at most 256 bytes")
            }
            return s
        }
        guard Set(labels).count == labels.count else { throw fail("metadata 'labels' names a class twice") }
        if v1 && labels.count < 2 { throw fail("metadata 'classes' must name at least 2 classes") }

        let where_ = SourcePosition(file: "layers", line: 0, column: 0)
        do {
            layers = try LayerListParser.parse(try json("layers").configNode(at: where_))
        } catch let e as ConfigError {
            let at = e.position.line > 0 ? " (layer \(e.position.line))" : ""
            throw fail("metadata 'layers'\(at): \(e.message)")
        }
        if v1 { layers.append(.classifierHead(classes: labels.count)) }

        preprocessing = [:]
        if let p = meta["preprocessing"] {
            guard case .object(let fields)? = JSONValue.parse(p) else {
                throw fail("metadata 'preprocessing' must be an object of strings")
            }
            for (k, v) in fields {
                guard case .string(let s) = v else {
                    throw fail("metadata 'preprocessing' must be an object of strings")
                }
                preprocessing[k] = s
            }
        }
        if let m = meta["members"] {
            guard let n = Int(m), Self.memberLimit.contains(n) else {
                throw fail("metadata 'members' must be a whole number in \(Self.memberLimit)")
            }
            members = n
        }
        if let r = meta["results"] {
            guard case .object(let fields)? = JSONValue.parse(r), fields.count <= 64 else {
                throw fail("metadata 'results' must be an object of at most 64 numbers")
            }
            for (k, v) in fields {
                guard k.utf8.count <= 64, case .number(let t) = v, let x = Double(t), x.isFinite else {
                    throw fail("metadata 'results' must be an object of at most 64 numbers")
                }
                results[k] = x
            }
        }
    }
}

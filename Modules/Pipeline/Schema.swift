// Stage schemas: every option is typed once (name, type, default, one-line doc). The config validator,
// `dlpipe stages`, and the docs/stages.md check all read the same schema.
import Foundation
import Tensor
import FilesAndText

/// The type of a stage option, with its accepted range.
public enum OptionType {
    case int(ClosedRange<Int>)
    case float(ClosedRange<Double>)
    case bool
    case string
    /// A file or folder path to read; relative paths resolve against the config file's folder.
    case path
    /// A file the stage writes (its folder must be creatable and writable; no two outputs may be one file).
    case outputFile
    /// A folder the stage writes files into.
    case outputFolder
    case choice([String])
    case intList
    case stringList
    /// Files or folders to read; each relative path resolves against the config file's folder.
    case pathList
    /// Structured value checked by the stage itself (e.g. a layer list); `summary` names it in docs.
    case custom(summary: String, validate: (ConfigNode) throws -> Void)

    var isPath: Bool {
        switch self {
        case .path, .outputFile, .outputFolder: return true
        default: return false
        }
    }
    var isOutput: Bool {
        switch self {
        case .outputFile, .outputFolder: return true
        default: return false
        }
    }

    public var name: String {
        switch self {
        case .int(let r): return r == Int.min...Int.max ? "int" : "int \(r.lowerBound)…\(r.upperBound)"
        case .float(let r): return "float \(jsonNumber(r.lowerBound))…\(jsonNumber(r.upperBound))"
        case .bool: return "bool"
        case .string: return "string"
        case .path: return "path"
        case .outputFile: return "output file"
        case .outputFolder: return "output folder"
        case .choice(let c): return c.joined(separator: "|")
        case .intList: return "list of int"
        case .stringList: return "list of string"
        case .pathList: return "list of path"
        case .custom(let s, _): return s
        }
    }
}

/// A typed option value after validation.
public enum OptionValue: Equatable {
    case int(Int), float(Double), bool(Bool), string(String), list([OptionValue]), node(ConfigNode)

    public var display: String {
        switch self {
        case .int(let i): return String(i)
        case .float(let d): return jsonNumber(d)
        case .bool(let b): return String(b)
        case .string(let s): return s
        case .list(let l): return "[" + l.map { $0.display }.joined(separator: ", ") + "]"
        case .node: return "(structured)"
        }
    }
}

public struct OptionSpec {
    public let name: String
    public let type: OptionType
    public let defaultValue: OptionValue?
    public let required: Bool
    public let doc: String
    public init(
        _ name: String, _ type: OptionType, default defaultValue: OptionValue? = nil, required: Bool = false,
        doc: String
    ) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.required = required
        self.doc = doc
    }
}

/// What flows between stages, for checking a pipeline before running it. Open: a plugin declares its
/// own kinds in an extension (`extension ItemKind { static let tokens = ItemKind("token sequences") }`).
public struct ItemKind: RawRepresentable, Hashable, Sendable {
    /// The plural noun used in messages ("images").
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ name: String) { rawValue = name }

    public static let none = ItemKind("nothing")
    public static let image = ItemKind("images")
    public static let audio = ItemKind("audio clips")
    /// Feature sequences [T, F] (Item.features).
    public static let features = ItemKind("feature sequences")
    public static let text = ItemKind("texts")
    public static let prediction = ItemKind("predictions")
}

/// What `dlpipe serve` does with a stage: it builds the stages once and runs every batch of spool inputs
/// through them, calling `finish` after each batch to flush it.
public enum Serving: Equatable, Sendable {
    /// Reads files (a `FileSource`): given the spool's claimed inputs.
    case source
    /// Handles items one by one (finish only flushes a batch): run for every batch.
    case perItem
    /// Gathers a whole run's output into one file (write.csv): the spool's per-input results replace it.
    case replacedByResults
    /// Writes one file per item into the folder named by this option: run, with that folder set to
    /// the spool's results/.
    case writesInto(option: String)
    /// Needs the whole run at once (training, generation): a pipeline with it cannot be served.
    case wholeRun
    /// Draws images on request (an `ImageSampler`, a generator): served over HTTP at
    /// /v1/pipelines/NAME/sample, not over a spool.
    case sampler

    /// One line for the stage reference.
    public var summary: String {
        switch self {
        case .source: return "reads the files it claims from the spool"
        case .perItem: return "runs on every batch"
        case .replacedByResults: return "replaced by one result file per input in `results/`"
        case .writesInto(let o): return "runs on every batch, with `\(o)` set to the spool's `results/`"
        case .wholeRun: return "cannot be served (needs the whole run)"
        case .sampler: return "over HTTP, draws images on request at `/v1/pipelines/NAME/sample`; not over a spool"
        }
    }
}

/// The shape of one item a stage emits, from its options and the shape it receives: [C, H, W] for
/// images, with 0 for a dimension not known before running (read.png's images have any size).
public typealias ShapeRule = (_ options: StageOptions, _ input: [Int]?) -> [Int]?

public struct StageSpec {
    public let name: String
    public let summary: String
    public let consumes: [ItemKind]
    public let produces: ItemKind
    public let options: [OptionSpec]
    public let make: (StageOptions) throws -> Stage
    /// How the stage changes the item shape (default: it passes the input's shape on).
    public let shape: ShapeRule
    /// What `dlpipe serve` does with the stage (default: it cannot be served).
    public let serving: Serving
    public init(
        name: String, summary: String, consumes: [ItemKind], produces: ItemKind, options: [OptionSpec],
        shape: @escaping ShapeRule = { _, input in input }, serving: Serving = .wholeRun,
        make: @escaping (StageOptions) throws -> Stage
    ) {
        self.name = name
        self.summary = summary
        self.consumes = consumes
        self.produces = produces
        self.options = options
        self.shape = shape
        self.serving = serving
        self.make = make
    }
}

/// All stages known to this binary. Each target registers its stages in one function.
///
///     StageRegistry.shared.register(StageSpec(name: "write.csv", ...))
public final class StageRegistry: @unchecked Sendable {
    public static let shared = StageRegistry()
    private var specs: [String: StageSpec] = [:]
    public init() {}

    public func register(_ spec: StageSpec) {
        precondition(specs[spec.name] == nil, "stage \(spec.name) registered twice")
        specs[spec.name] = spec
    }
    public func spec(_ name: String) -> StageSpec? { specs[name] }
    public var all: [StageSpec] { specs.values.sorted { $0.name < $1.name } }
    public var names: [String] { all.map { $0.name } }
}

/// Validated options of one stage instance, with defaults filled in.
public struct StageOptions {
    public let stage: String
    public let position: SourcePosition
    public let values: [String: OptionValue]
    public let configDirectory: String
    /// Shape of the items this stage receives, as far as known before running (see ShapeRule).
    public var inputShape: [Int]? = nil
    /// Bytes a stage may plan to use (the config's max_memory_mb; default half the physical memory).
    public var memoryLimit: Int = PipelineConfig.defaultMemoryLimit

    public func int(_ k: String) -> Int {
        if case .int(let v)? = values[k] { return v }
        fatalError("option \(stage).\(k) is not an int")
    }
    public func float(_ k: String) -> Double {
        switch values[k] {
        case .float(let v)?: return v
        case .int(let v)?: return Double(v)
        default: fatalError("option \(stage).\(k) is not a number")
        }
    }
    public func bool(_ k: String) -> Bool {
        if case .bool(let v)? = values[k] { return v }
        fatalError("option \(stage).\(k) is not a bool")
    }
    public func string(_ k: String) -> String {
        if case .string(let v)? = values[k] { return v }
        fatalError("option \(stage).\(k) is not a string")
    }
    public func optionalString(_ k: String) -> String? {
        if case .string(let v)? = values[k] { return v }
        return nil
    }
    public func ints(_ k: String) -> [Int] {
        if case .list(let l)? = values[k] {
            return l.compactMap {
                if case .int(let i) = $0 { return i }
                return nil
            }
        }
        return []
    }
    public func strings(_ k: String) -> [String] {
        if case .list(let l)? = values[k] {
            return l.compactMap {
                if case .string(let s) = $0 { return s }
                return nil
            }
        }
        return []
    }
    public func node(_ k: String) -> ConfigNode? {
        if case .node(let n)? = values[k] { return n }
        return nil
    }
    public func has(_ k: String) -> Bool { values[k] != nil }

    /// These options with `changes` applied (nil removes an option): how `dlpipe serve` points a
    /// reader at the spool and a writer at its results folder.
    public func with(_ changes: [String: OptionValue?]) -> StageOptions {
        var v = values
        for (k, value) in changes { v[k] = value }
        var o = StageOptions(stage: stage, position: position, values: v, configDirectory: configDirectory)
        o.inputShape = inputShape
        o.memoryLimit = memoryLimit
        return o
    }
}

// Validation of a parsed config against the registry: top-level keys, stage names, every option's
// name, type and range, required options, and that each stage accepts what the previous one produces.
// Everything is checked before any compute, so `dlpipe check` and `dlpipe run` report the same errors.
import Foundation
import Tensor
import FilesAndText

/// A fully validated pipeline: stages in order with typed options.
public struct PipelineConfig {
    public let file: String
    public let stages: [(spec: StageSpec, options: StageOptions)]
    public let stopOnError: Bool
    public let threads: Int?

    static let topLevelKeys = ["stages", "on_error", "threads", "max_memory_mb", "name", "description"]

    /// Half the physical memory: what a run may plan to use unless the config says max_memory_mb.
    public static let defaultMemoryLimit: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? pages * size / 2 : 4 << 30
    }()

    /// Reads, parses and validates a pipeline file; `overrides` are "stage.option=value" strings.
    ///
    ///     let p = try PipelineConfig.load("pipelines/digits-train.conf", registry: .shared)
    public static func load(
        _ path: String, overrides: [String] = [], registry: StageRegistry = .shared,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> PipelineConfig {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            throw ConfigError(SourcePosition(file: path, line: 0, column: 0), "no such config file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(SourcePosition(file: path, line: 0, column: 0), "cannot read config file")
        }
        var root = try ConfigParser.parse(data, file: path, environment: environment)
        try applyOverrides(overrides, to: &root, registry: registry, environment: environment)
        return try validate(root, file: path, registry: registry)
    }

    /// Validates a parsed tree (used by tests and `load`).
    public static func validate(_ root: ConfigNode, file: String, registry: StageRegistry) throws -> PipelineConfig {
        let entries = root.entries ?? []
        for e in entries where !topLevelKeys.contains(e.key) {
            let hint = closestMatch(e.key, in: topLevelKeys).map { " (did you mean '\($0)'?)" } ?? ""
            throw ConfigError(
                e.keyPosition,
                "unknown top-level key '\(e.key)'\(hint); allowed: \(topLevelKeys.joined(separator: ", "))")
        }
        guard let stagesNode = root["stages"] else {
            throw ConfigError(root.position, "missing 'stages:' (a list of stages)")
        }
        guard let items = stagesNode.items, !items.isEmpty else {
            throw ConfigError(stagesNode.position, "'stages' must be a non-empty list, found \(stagesNode.kindName)")
        }
        var stopOnError = false
        if let n = root["on_error"] {
            guard let t = n.text, ["continue", "stop"].contains(t) else {
                throw ConfigError(n.position, "on_error must be continue or stop, found \(n.kindName)")
            }
            stopOnError = t == "stop"
        }
        var threads: Int?
        if let n = root["threads"] {
            guard let t = n.text, let v = Int(t), (1...256).contains(v) else {
                throw ConfigError(n.position, "threads must be an integer 1…256, found \(n.kindName)")
            }
            threads = v
        }
        var memoryLimit = defaultMemoryLimit
        if let n = root["max_memory_mb"] {
            guard let t = n.text, let v = Int(t), (64...16_777_216).contains(v) else {
                throw ConfigError(n.position, "max_memory_mb must be an integer 64…16777216, found \(n.kindName)")
            }
            memoryLimit = v << 20
        }
        let dir = (file as NSString).deletingLastPathComponent
        var stages: [(StageSpec, StageOptions)] = []
        var shape: [Int]? = nil
        for item in items {
            guard let e = item.entries, e.count == 1 else {
                throw ConfigError(
                    item.position, "each stage is a mapping with one stage name, e.g. '- read.png: {path: images}'")
            }
            let name = e[0].key
            guard let spec = registry.spec(name) else {
                let hint = closestMatch(name, in: registry.names).map { " (did you mean '\($0)'?)" } ?? ""
                throw ConfigError(e[0].keyPosition, "unknown stage '\(name)'\(hint); `dlpipe stages` lists them")
            }
            var opts = try validateOptions(
                spec, e[0].value, at: e[0].keyPosition, configDirectory: dir.isEmpty ? "." : dir)
            opts.inputShape = shape
            opts.memoryLimit = memoryLimit
            shape = spec.shape(opts, shape)
            stages.append((spec, opts))
        }
        // What flows between stages must match.
        for (k, (spec, opts)) in stages.enumerated() {
            let input: ItemKind = k == 0 ? .none : stages[k - 1].0.produces
            if !spec.consumes.contains(input) {
                let wants = spec.consumes.map { $0.rawValue }.joined(separator: " or ")
                let from = k == 0 ? "it is the first stage" : "\(stages[k - 1].0.name) produces \(input.rawValue)"
                throw ConfigError(opts.position, "\(spec.name) needs \(wants) as input, but \(from)")
            }
        }
        try checkOutputsDistinct(stages)
        return PipelineConfig(file: file, stages: stages, stopOnError: stopOnError, threads: threads)
    }

    /// Every file the pipeline writes, with the option that names it.
    public var outputs: [Output] { Self.outputs(stages) }

    public struct Output {
        public let path: String, isFolder: Bool, option: String, position: SourcePosition
    }

    static func outputs(_ stages: [(spec: StageSpec, options: StageOptions)]) -> [Output] {
        stages.flatMap { spec, opts in
            spec.options.compactMap { o -> Output? in
                guard o.type.isOutput, let p = opts.optionalString(o.name) else { return nil }
                if case .outputFolder = o.type {
                    return Output(path: p, isFolder: true, option: "\(spec.name).\(o.name)", position: opts.position)
                }
                return Output(path: p, isFolder: false, option: "\(spec.name).\(o.name)", position: opts.position)
            }
        }
    }

    /// Two options naming one output file would overwrite each other's work.
    static func checkOutputsDistinct(_ stages: [(spec: StageSpec, options: StageOptions)]) throws {
        var seen: [String: Output] = [:]
        for out in outputs(stages) where !out.isFolder {
            let key = lexicallyNormalized(out.path)
            if let first = seen[key] {
                throw ConfigError(
                    out.position,
                    "\(out.option) writes \(out.path), which \(first.option) (line \(first.position.line)) writes too")
            }
            seen[key] = out
        }
    }

    /// Before any work: every output's folder exists or can be created, and is writable; an output file
    /// is not a folder. (`dlpipe check` and the start of `dlpipe run` both ask.)
    public func checkOutputsWritable() throws {
        for out in outputs {
            let folder = out.isFolder ? out.path : (out.path as NSString).deletingLastPathComponent
            if let problem = Self.writeProblem(folder: folder.isEmpty ? "." : folder) {
                throw ConfigError(out.position, "\(out.option): cannot write \(out.path): \(problem)")
            }
            var isDir: ObjCBool = false
            if !out.isFolder, FileManager.default.fileExists(atPath: out.path, isDirectory: &isDir), isDir.boolValue {
                throw ConfigError(out.position, "\(out.option): \(out.path) is a folder, not a file")
            }
        }
    }

    /// Why files cannot be created in `folder`, or nil. It is tried for real: missing folders are made,
    /// a probe file is created and removed, and the folders made for the probe are removed again.
    static func writeProblem(folder: String) -> String? {
        var made: [String] = []
        var f = folder
        while !FileManager.default.fileExists(atPath: f) {
            made.append(f)
            let parent = (f as NSString).deletingLastPathComponent
            if parent.isEmpty || parent == f { break }
            f = parent
        }
        defer { for d in made { rmdir(d) } }
        do { try makeFolder(folder) } catch let e as FileWriteError { return "\(e.path): \(e.reason)" } catch {
            return "\(error)"
        }
        let probe = folder + "/.dlpipe-probe.\(getpid()).tmp"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return "\(folder) is not writable (\(String(cString: strerror(errno))))" }
        close(fd)
        unlink(probe)
        return nil
    }

    static func validateOptions(
        _ spec: StageSpec, _ node: ConfigNode, at pos: SourcePosition,
        configDirectory: String
    ) throws -> StageOptions {
        var values: [String: OptionValue] = [:]
        let given: [ConfigEntry]
        switch node.value {
        case .null: given = []
        case .map(let m): given = m
        default:
            throw ConfigError(
                node.position, "options of \(spec.name) must be a mapping (option: value), found \(node.kindName)")
        }
        let names = spec.options.map { $0.name }
        for e in given {
            guard let o = spec.options.first(where: { $0.name == e.key }) else {
                let hint = closestMatch(e.key, in: names).map { " (did you mean '\($0)'?)" } ?? ""
                throw ConfigError(e.keyPosition, "\(spec.name) has no option '\(e.key)'\(hint)")
            }
            values[o.name] = try typed(o, e.value, stage: spec.name, configDirectory: configDirectory)
        }
        for o in spec.options where values[o.name] == nil {
            if o.required { throw ConfigError(pos, "\(spec.name) needs option '\(o.name)' (\(o.doc))") }
            if let d = o.defaultValue {
                if o.type.isPath, case .string(let s) = d {
                    values[o.name] = .string(resolve(s, configDirectory))
                } else {
                    values[o.name] = d
                }
            }
        }
        return StageOptions(stage: spec.name, position: pos, values: values, configDirectory: configDirectory)
    }

    static func resolve(_ p: String, _ dir: String) -> String {
        if p.hasPrefix("/") { return p }
        if p.hasPrefix("~/") { return NSHomeDirectory() + String(p.dropFirst(1)) }
        return dir == "." ? p : lexicallyNormalized(dir + "/" + p)
    }

    /// "pipelines/../data/x" → "data/x" (no file-system access, so links are not followed).
    static func lexicallyNormalized(_ path: String) -> String {
        var parts: [Substring] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == "..", let last = parts.last, last != ".." {
                parts.removeLast()
                continue
            }
            parts.append(c)
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    static func typed(_ o: OptionSpec, _ n: ConfigNode, stage: String, configDirectory: String) throws -> OptionValue {
        func bad(_ what: String) -> ConfigError {
            ConfigError(n.position, "\(stage).\(o.name) must be \(what), found \(n.kindName)")
        }
        switch o.type {
        case .int(let r):
            guard let t = n.text, let v = Int(t) else { throw bad("an integer") }
            guard r.contains(v) else {
                throw ConfigError(
                    n.position, "\(stage).\(o.name) = \(v) is out of range \(r.lowerBound)…\(r.upperBound)")
            }
            return .int(v)
        case .float(let r):
            guard let t = n.text, let v = Double(t), v.isFinite else { throw bad("a number") }
            guard r.contains(v) else {
                throw ConfigError(
                    n.position,
                    "\(stage).\(o.name) = \(t) is out of range \(jsonNumber(r.lowerBound))…\(jsonNumber(r.upperBound))")
            }
            return .float(v)
        case .bool:
            guard let t = n.text, case .scalar(_, false) = n.value, ["true", "false"].contains(t) else {
                throw bad("true or false")
            }
            return .bool(t == "true")
        case .string:
            guard let t = n.text else { throw bad("a string") }
            return .string(t)
        case .path, .outputFile, .outputFolder:
            guard let t = n.text, !t.isEmpty else { throw bad("a path") }
            return .string(resolve(t, configDirectory))
        case .choice(let c):
            guard let t = n.text else { throw bad("one of \(c.joined(separator: ", "))") }
            guard c.contains(t) else {
                let hint = closestMatch(t, in: c).map { " (did you mean '\($0)'?)" } ?? ""
                throw ConfigError(
                    n.position, "\(stage).\(o.name) must be one of \(c.joined(separator: ", ")), found '\(t)'\(hint)")
            }
            return .string(t)
        case .intList:
            guard let items = n.items else { throw bad("a list of integers") }
            return .list(
                try items.map { i in
                    guard let t = i.text, let v = Int(t) else {
                        throw ConfigError(i.position, "\(stage).\(o.name): expected an integer, found \(i.kindName)")
                    }
                    return .int(v)
                })
        case .stringList:
            if let t = n.text { return .list([.string(t)]) }
            guard let items = n.items else { throw bad("a list of strings") }
            return .list(
                try items.map { i in
                    guard let t = i.text else {
                        throw ConfigError(i.position, "\(stage).\(o.name): expected a string, found \(i.kindName)")
                    }
                    return .string(t)
                })
        case .pathList:
            if let t = n.text, !t.isEmpty { return .list([.string(resolve(t, configDirectory))]) }
            guard let items = n.items else { throw bad("a list of paths") }
            return .list(
                try items.map { i in
                    guard let t = i.text, !t.isEmpty else {
                        throw ConfigError(i.position, "\(stage).\(o.name): expected a path, found \(i.kindName)")
                    }
                    return .string(resolve(t, configDirectory))
                })
        case .custom(_, let validate):
            try validate(n)
            return .node(n)
        }
    }

    /// Applies "stage.option=value" overrides to the tree (the value is parsed like an inline YAML value).
    static func applyOverrides(
        _ overrides: [String], to root: inout ConfigNode, registry: StageRegistry,
        environment: [String: String]
    ) throws {
        for o in overrides {
            let cliPos = SourcePosition(file: "--set", line: 1, column: 1)
            guard let eq = o.firstIndex(of: "=") else {
                throw ConfigError(cliPos, "expected stage.option=value, got '\(o)'")
            }
            let lhs = String(o[..<eq]), rhs = String(o[o.index(after: eq)...])
            guard let dot = lhs.lastIndex(of: ".") else {
                throw ConfigError(cliPos, "expected stage.option=value, got '\(o)'")
            }
            let stage = String(lhs[..<dot]), option = String(lhs[lhs.index(after: dot)...])
            let parsed = try ConfigParser.parse(Data("v: \(rhs)".utf8), file: "--set \(lhs)", environment: environment)
            guard var value = parsed["v"] else { continue }
            value = ConfigNode(value.value, SourcePosition(file: "--set \(lhs)", line: 1, column: 1))
            guard case .map(var top) = root.value, let si = top.firstIndex(where: { $0.key == "stages" }),
                case .list(var stages) = top[si].value.value,
                let k = stages.firstIndex(where: { $0.entries?.first?.key == stage }),
                case .map(var st) = stages[k].value, !st.isEmpty
            else {
                throw ConfigError(cliPos, "--set \(lhs): the pipeline has no stage '\(stage)'")
            }
            var opts: [ConfigEntry]
            switch st[0].value.value {
            case .map(let m): opts = m
            case .null: opts = []
            default: opts = []
            }
            if let j = opts.firstIndex(where: { $0.key == option }) {
                opts[j].value = value
            } else {
                opts.append(ConfigEntry(key: option, keyPosition: value.position, value: value))
            }
            st[0].value = ConfigNode(.map(opts), st[0].value.position)
            stages[k] = ConfigNode(.map(st), stages[k].position)
            top[si].value = ConfigNode(.list(stages), top[si].value.position)
            root = ConfigNode(.map(top), root.position)
        }
    }
}

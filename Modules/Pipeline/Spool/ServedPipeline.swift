// A pipeline built once for `dlpipe serve`: its reader gets the spool's claimed files, every batch runs
// through the same stage objects (a classifier's model is loaded once per process), and whatever reaches
// the end of the pipeline is the input's result. Stages that gather a whole run's output into one file
// (write.csv) are replaced by the spool's per-input results; a stage that needs the whole run (training)
// makes the pipeline unservable, said before any work.
import Foundation

/// What became of one input of a batch.
public enum ServedOutcome {
    case result(Item)
    case failed(reason: String)
}

public final class ServedPipeline {
    public let file: String
    let source: FileSource
    let stages: [Stage]
    /// The model file the pipeline classifies with (named in every result), if any.
    public let model: String?
    /// Whether a stage writes files of its own into the results folder (write.png).
    public let writesFiles: Bool

    /// Builds the stages of `config` for serving; writer stages that write one file per input write
    /// into `results`.
    public init(_ config: PipelineConfig, results: String) throws {
        file = config.file
        let entries = config.stages
        let (first, firstOptions) = (entries[0].spec, entries[0].options)
        guard first.serving == .source else {
            throw ConfigError(
                firstOptions.position,
                "dlpipe serve: the first stage must read files (read.png, read.audio), not \(first.name)")
        }
        var kept: [Stage] = []
        var model: String?
        var writesFiles = false
        var sourceStage: FileSource?
        for (i, (spec, options)) in entries.enumerated() {
            switch spec.serving {
            case .wholeRun, .sampler:
                throw ConfigError(
                    options.position,
                    "dlpipe serve: \(spec.name) needs the whole run at once and cannot be served; serve a pipeline that reads and classifies (e.g. pipelines/digits-classify.conf)"
                )
            case .source where i > 0:
                throw ConfigError(options.position, "dlpipe serve: only the first stage may read files")
            case .source:
                // The spool hands the reader its files; the config's own file options only had to validate.
                let o = options.with(["path": .string("."), "train": nil, "test": nil, "manifest": nil, "limit": nil])
                guard let s = try spec.make(o) as? FileSource else {
                    throw ConfigError(options.position, "dlpipe serve: \(spec.name) cannot be handed files")
                }
                sourceStage = s
            case .replacedByResults:
                continue
            case .perItem:
                kept.append(try spec.make(options))
            case .writesInto(let option):
                writesFiles = true
                var changes: [String: OptionValue?] = [option: .string(results)]
                for o in spec.options where o.type.isOutput && o.name != option { changes[o.name] = .some(nil) }
                kept.append(try spec.make(options.with(changes)))
            }
            if let m = options.optionalString("model") { model = m }
        }
        source = sourceStage!
        stages = kept
        self.model = model
        self.writesFiles = writesFiles
    }

    /// Runs `files` (paths) through the pipeline; returns each file's outcome, keyed by path. A file
    /// the stages drop without a reason gets one ("produced no result").
    public func run(_ files: [String], progress: ProgressReporter) throws -> [String: ServedOutcome] {
        let ctx = RunContext(progress: progress, stopOnError: false)
        var ends: [String: Item] = [:]
        func push(_ item: Item, _ k: Int) throws {
            guard k < stages.count else {
                if ends[item.file] == nil { ends[item.file] = item }
                return
            }
            try stages[k].process(item, ctx) { try push($0, k + 1) }
        }
        try source.read(files, ctx) { try push($0, 0) }
        for k in stages.indices { try stages[k].finish(ctx) { try push($0, k + 1) } }
        var out: [String: ServedOutcome] = [:]
        for f in ctx.failures where out[f.file] == nil { out[f.file] = .failed(reason: f.reason) }
        for f in files where out[f] == nil {
            out[f] = ends[f].map { .result($0) } ?? .failed(reason: "produced no result (the pipeline dropped it)")
        }
        return out
    }
}

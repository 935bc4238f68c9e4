// `dlpipe run` and `dlpipe check`.
import Foundation
import Pipeline

let runUsage = """
    usage: dlpipe run FILE [--set STAGE.OPTION=VALUE]... [--resume] [--shard K/N] [--quiet | --verbose]

    Runs the pipeline described by FILE (see docs/config.md). Every option is validated before
    any work starts. Bad input files are reported as "file: reason" and skipped (unless the pipeline says
    on_error: stop); the run then ends with "N ok, M failed" and exit status 1.

    Options:
      --set STAGE.OPTION=VALUE   override one option, e.g. --set vision.train.epochs=3
      --resume                   training stages continue from their last checkpoint (see checkpoint_every)
      --shard K/N                read only the inputs whose relative path hashes to K mod N (0 ≤ K < N): N runs
                                 together read every input once (a Slurm job array, a Kubernetes Indexed Job)
      -q, --quiet                only errors and the final summary
      -v, --verbose              extra detail
    Environment: DLPIPE_THREADS (worker threads, default: all cores), NO_COLOR.
    """

let checkUsage = """
    usage: dlpipe check FILE [--set STAGE.OPTION=VALUE]...

    Validates FILE without running it: syntax, stage names, every option's name, type and range, required
    options, and that each stage accepts what the previous one produces. Also opens model files that
    stages read. Exit status 0 when valid, 2 with "file:line:col: message" when not.
    """

/// An exit status carried through Result.
struct ExitCode: Error {
    let code: Int32
    init(_ c: Int32) { code = c }
}

struct RunArgs {
    var file: String
    var sets: [String] = []
    var quiet = false
    var verbose = false
    var resume = false
    var shard: Shard?
}

func parseRunArgs(_ args: [String], usage: String, allowVerbosity: Bool) -> Result<RunArgs, ExitCode> {
    var file: String?
    var r = RunArgs(file: "")
    var i = 0
    while i < args.count {
        let a = args[i]
        switch a {
        case "-h", "--help":
            print(usage)
            return .failure(ExitCode(0))
        case "--set":
            guard i + 1 < args.count else { return .failure(ExitCode(usageError("--set needs STAGE.OPTION=VALUE"))) }
            r.sets.append(args[i + 1])
            i += 1
        case "-q" where allowVerbosity, "--quiet" where allowVerbosity: r.quiet = true
        case "-v" where allowVerbosity, "--verbose" where allowVerbosity: r.verbose = true
        case "--resume" where allowVerbosity: r.resume = true
        case "--shard" where allowVerbosity:
            guard i + 1 < args.count, let s = Shard(args[i + 1]) else {
                return .failure(ExitCode(usageError("--shard needs K/N with 0 ≤ K < N, e.g. --shard 0/4")))
            }
            r.shard = s
            i += 1
        default:
            if a.hasPrefix("--set=") {
                r.sets.append(String(a.dropFirst(6)))
            } else if a.hasPrefix("-") {
                return .failure(ExitCode(usageError("unknown option '\(a)'\n\n" + usage)))
            } else if file != nil {
                return .failure(ExitCode(usageError("one pipeline file at a time (got '\(file!)' and '\(a)')")))
            } else {
                file = a
            }
        }
        i += 1
    }
    guard let f = file else { return .failure(ExitCode(usageError("which pipeline file?\n\n" + usage))) }
    r.file = f
    return .success(r)
}

func loadPipeline(_ r: RunArgs) -> Result<PipelineConfig, ExitCode> {
    do {
        let cfg = try PipelineConfig.load(r.file, overrides: r.sets, registry: makeRegistry())
        return .success(cfg)
    } catch let e as ConfigError {
        printError(e.description)
        return .failure(ExitCode(2))
    } catch {
        printError("\(r.file): \(error)")
        return .failure(ExitCode(2))
    }
}

func checkCommand(_ args: [String]) -> Int32 {
    let r: RunArgs
    switch parseRunArgs(args, usage: checkUsage, allowVerbosity: false) {
    case .success(let v): r = v
    case .failure(let c): return c.code
    }
    guard case .success(let cfg) = loadPipeline(r) else { return 2 }
    do { try cfg.checkOutputsWritable() } catch {
        printError("\(error)")
        return 2
    }
    // Build every stage too: that opens model files and checks option combinations.
    for (spec, opts) in cfg.stages {
        do { _ = try spec.make(opts) } catch let e as ConfigError {
            printError(e.description)
            return 2
        } catch {
            printError("\(opts.position): \(error)")
            return 2
        }
    }
    print("\(r.file): ok (\(cfg.stages.count) stages: \(cfg.stages.map { $0.spec.name }.joined(separator: " → ")))")
    return 0
}

func runCommand(_ args: [String]) -> Int32 {
    let r: RunArgs
    switch parseRunArgs(args, usage: runUsage, allowVerbosity: true) {
    case .success(let v): r = v
    case .failure(let c): return c.code
    }
    guard case .success(let cfg) = loadPipeline(r) else { return 2 }
    let progress = ProgressReporter(quiet: r.quiet, verbose: r.verbose)
    let started = Date()
    do {
        let summary = try PipelineRunner.run(cfg, progress: progress, resume: r.resume, shard: r.shard)
        let secs = Date().timeIntervalSince(started)
        let line = String(format: "%d ok, %d failed (%.1f s)", summary.succeeded, summary.failures.count, secs)
        printError(line)
        return summary.failures.isEmpty ? 0 : 1
    } catch let e as ConfigError {
        printError(e.description)
        return 2
    } catch let e as RunStopped {
        printError("dlpipe: run stopped: \(e.reason)")
        return e.reason == "interrupted" ? 130 : 1
    } catch {
        printError("dlpipe: run failed: \(error)")
        return 1
    }
}

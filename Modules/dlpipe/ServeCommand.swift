// `dlpipe serve` and `dlpipe status`.
import Foundation
import Pipeline

let serveUsage = """
    usage: dlpipe serve FILE --spool SPOOL [--batch N] [--poll SECONDS] [--worker ID] [--once]
                        [--set STAGE.OPTION=VALUE]... [--quiet | --verbose]

    Runs the pipeline FILE as a daemon over the spool folder SPOOL (created if missing):
      SPOOL/inbox/    drop files here atomically (write elsewhere, then rename in; names starting with "."
                      are ignored)
      SPOOL/work/ID/  inputs a worker has claimed (by renaming them here)
      SPOOL/results/  NAME.json per input: {file, label, confidence, top, model, worker, time, ms}
                      (and the files of pipelines that write files, such as write.png)
      SPOOL/done/     inputs with a result
      SPOOL/failed/   inputs that could not be processed, each with NAME.error.txt saying why
    The pipeline's first stage must read files (read.png, read.audio); its file options are replaced by the
    spool, write.csv/write.jsonl by the per-input results; training stages cannot be served. The model is
    loaded once. Files that arrive together are processed in batches with one flush per batch; results
    are durable before an input leaves work/. Several workers (processes, or machines sharing the folder
    over NFS/CephFS) may serve one spool: each input is processed by exactly one. A worker that dies
    (even by SIGKILL) has its inputs recovered by the next worker that starts or looks (every 5 s).

    Options:
      --spool SPOOL              the spool folder (required)
      --batch N                  most inputs claimed and committed together (default 512)
      --poll SECONDS             look at inbox/ at least this often (default 1; inotify wakes sooner)
      --worker ID                this worker's name (default HOST-PID); letters, digits, '-', '_', '.'
      --once                     process what is queued, then exit
      --set STAGE.OPTION=VALUE   override one option, as for `dlpipe run`
      -q, --quiet / -v, --verbose
    Signals: SIGTERM/SIGINT finish the batch in hand and exit 0 (a second one exits at once); SIGHUP reloads
    FILE (a config that does not validate is reported and the running pipeline kept).
    Exit status: 0 stopped by a signal or --once done, 1 a failure of the spool itself (disk), 2 usage or
    config error.
    """

let statusUsage = """
    usage: dlpipe status SPOOL [--json]

    Prints what the spool holds: queued inputs, inputs in work per worker (with the age of the oldest and
    whether the worker is running), done, failed, and the rate over the last minute.
    """

func serveCommand(_ args: [String]) -> Int32 {
    var options = ServeOptions()
    var file: String?, spool: String?
    var quiet = false, verbose = false
    var i = 0
    func value(_ name: String) -> String? {
        guard i + 1 < args.count else { return nil }
        i += 1
        return args[i]
    }
    while i < args.count {
        let a = args[i]
        switch a {
        case "-h", "--help":
            print(serveUsage)
            return 0
        case "--spool":
            guard let v = value(a) else { return usageError("--spool needs a folder") }
            spool = v
        case "--batch":
            guard let v = value(a), let n = Int(v), (1...65536).contains(n) else {
                return usageError("--batch needs an integer 1…65536")
            }
            options.batchSize = n
        case "--poll":
            guard let v = value(a), let s = Double(v), s >= 0.01, s <= 3600 else {
                return usageError("--poll needs seconds between 0.01 and 3600")
            }
            options.pollInterval = s
        case "--worker":
            guard let v = value(a), WorkerName.isValid(v) else {
                return usageError(
                    "--worker needs a name of 1–100 letters, digits, '-', '_' or '.', not starting with '.' nor ending in '.lock'"
                )
            }
            options.worker = v
        case "--once": options.once = true
        case "--set":
            guard let v = value(a) else { return usageError("--set needs STAGE.OPTION=VALUE") }
            options.overrides.append(v)
        case "-q", "--quiet": quiet = true
        case "-v", "--verbose": verbose = true
        default:
            if a.hasPrefix("-") { return usageError("unknown option '\(a)'\n\n" + serveUsage) }
            if let f = file { return usageError("one pipeline file at a time (got '\(f)' and '\(a)')") }
            file = a
        }
        i += 1
    }
    guard let file else { return usageError("which pipeline file?\n\n" + serveUsage) }
    guard let spool else { return usageError("--spool SPOOL is required: the folder to serve\n\n" + serveUsage) }
    let progress = ProgressReporter(quiet: quiet, verbose: verbose)
    let server: SpoolServer
    do {
        server = try SpoolServer(
            config: file, spool: spool, registry: makeRegistry(), options: options, progress: progress)
    } catch let e as ConfigError {
        printError(e.description)
        return 2
    } catch {
        printError("dlpipe serve: \(error)")
        return 2
    }
    do {
        _ = try server.run()
        return 0
    } catch {
        printError("dlpipe serve: \(error) (inputs in hand stay in work/ and are recovered at the next start)")
        return 1
    }
}

func statusCommand(_ args: [String]) -> Int32 {
    var json = false
    var folder: String?
    for a in args {
        switch a {
        case "-h", "--help":
            print(statusUsage)
            return 0
        case "--json": json = true
        default:
            if a.hasPrefix("-") { return usageError("unknown option '\(a)'\n\n" + statusUsage) }
            if folder != nil { return usageError("one spool at a time") }
            folder = a
        }
    }
    guard let folder else { return usageError("which spool?\n\n" + statusUsage) }
    let spool = SpoolDirectory(folder)
    guard spool.isSpool else {
        return usageError(
            "\(folder): not a spool (no inbox/, work/, results/, done/ and failed/ folders; `dlpipe serve` makes them)")
    }
    let status = SpoolStatus.read(spool)
    print(json ? status.json : status.text)
    return 0
}

// `dlpipe serve` and `dlpipe status`.
import Foundation
import Pipeline

let serveUsage = """
    usage: dlpipe serve FILE --spool SPOOL [--batch N] [--poll SECONDS] [--worker ID] [--once]
                        [--set STAGE.OPTION=VALUE]... [--quiet | --verbose]
           dlpipe serve FILE... | --pipelines DIR  --listen ADDR:PORT [--spool NAME=SPOOL]... [--max-batch N]
                        [--max-delay-ms MS] [--set STAGE.OPTION=VALUE]... [--quiet | --verbose]

    With --spool, runs the pipeline FILE as a daemon over the spool folder SPOOL (created if missing):
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

    With --listen, serves one or more pipelines over HTTP/1.1, each named after its file
    (pipelines/digits-classify.conf → digits-classify):
      POST /v1/pipelines/NAME[?top_k=K]   body: a PNG or an audio file, raw or as multipart/form-data
                                          → the spool's result JSON; errors are JSON {"error", "status"}
      GET  /v1/pipelines                  names, stages, classes and input of every pipeline
      GET  /healthz, /readyz, /metrics    liveness, readiness (once every model is loaded), Prometheus
      GET  /                              a page to try a model in a browser
    Requests that arrive together for one pipeline run as one batch (--max-batch, --max-delay-ms); with
    --spool NAME=SPOOL, pipeline NAME also serves a spool folder, its files batched with the requests.

    Options:
      --spool SPOOL              the spool folder (with --listen: NAME=SPOOL, for pipeline NAME; repeatable)
      --batch N                  spool: most inputs claimed and committed together (default 512)
      --poll SECONDS             spool: look at inbox/ at least this often (default 1; inotify wakes sooner)
      --worker ID                spool: this worker's name (default HOST-PID); letters, digits, '-', '_', '.'
      --once                     spool: process what is queued, then exit
      --listen ADDR:PORT         HTTP: the address to listen on (loopback unless another address is given;
                                 port 0 lets the system choose, and the chosen one is printed)
      --pipelines DIR            HTTP: serve every .conf file in DIR
      --max-batch N              HTTP: most inputs in one forward pass (default 64)
      --max-delay-ms MS          HTTP: how long the oldest input waits for its batch to fill (default 2)
      --max-body-mb MB           HTTP: largest request body (default 16)
      --request-timeout S        HTTP: a request must arrive within S seconds, and an idle connection is
                                 closed after S seconds (default 10)
      --set STAGE.OPTION=VALUE   override one option, as for `dlpipe run`
      -q, --quiet / -v, --verbose
    Signals: SIGTERM/SIGINT finish the batch (and HTTP requests) in hand and exit 0 (a second one exits at
    once); SIGHUP reloads the config(s) (one that does not validate is reported and the running pipeline kept).
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
    var files: [String] = [], spools: [String] = [], listen: String?
    var serverSettings = HTTPServer.Settings(), serviceSettings = ServiceSettings()
    var quiet = false, verbose = false
    var i = 0
    func value(_ name: String) -> String? {
        guard i + 1 < args.count else { return nil }
        i += 1
        return args[i]
    }
    /// The next argument as a number within `range`, or nil.
    func number(_ name: String, _ range: ClosedRange<Double>) -> Double? {
        value(name).flatMap(Double.init).flatMap { range.contains($0) ? $0 : nil }
    }
    while i < args.count {
        let a = args[i]
        switch a {
        case "-h", "--help":
            print(serveUsage)
            return 0
        case "--spool":
            guard let v = value(a) else { return usageError("--spool needs a folder (with --listen: NAME=FOLDER)") }
            spools.append(v)
        case "--batch":
            guard let n = number(a, 1...65536), n == n.rounded() else {
                return usageError("--batch needs an integer 1…65536")
            }
            options.batchSize = Int(n)
        case "--poll":
            guard let s = number(a, 0.01...3600) else {
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
        case "--listen":
            guard let v = value(a), let (host, port) = ServiceRunner.address(v) else {
                return usageError("--listen needs ADDR:PORT, e.g. 127.0.0.1:8080")
            }
            (serverSettings.host, serverSettings.port) = (host, port)
            listen = v
        case "--pipelines":
            guard let v = value(a) else { return usageError("--pipelines needs a folder") }
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: v) else {
                return usageError("--pipelines: cannot read folder '\(v)'")
            }
            let confs = names.filter { $0.hasSuffix(".conf") }.sorted().map { v + "/" + $0 }
            guard !confs.isEmpty else { return usageError("--pipelines: no .conf file in '\(v)'") }
            files += confs
        case "--max-batch":
            guard let n = number(a, 1...4096), n == n.rounded() else {
                return usageError("--max-batch needs an integer 1…4096")
            }
            serviceSettings.maxBatch = Int(n)
        case "--max-delay-ms":
            guard let ms = number(a, 0...10_000) else { return usageError("--max-delay-ms needs milliseconds 0…10000") }
            serviceSettings.maxDelay = ms / 1000
        case "--request-timeout":
            guard let t = number(a, 0.1...3600) else { return usageError("--request-timeout needs seconds 0.1…3600") }
            serverSettings.requestTimeout = t
            serverSettings.idleTimeout = t
        case "--max-body-mb":
            guard let mb = number(a, 0.001...1024) else {
                return usageError("--max-body-mb needs megabytes above 0, up to 1024")
            }
            serverSettings.limits.maxBodyBytes = Int(mb * 1_048_576)
        case "--set":
            guard let v = value(a) else { return usageError("--set needs STAGE.OPTION=VALUE") }
            options.overrides.append(v)
        case "-q", "--quiet": quiet = true
        case "-v", "--verbose": verbose = true
        default:
            if a.hasPrefix("-") { return usageError("unknown option '\(a)'\n\n" + serveUsage) }
            files.append(a)
        }
        i += 1
    }
    guard !files.isEmpty else { return usageError("which pipeline file?\n\n" + serveUsage) }
    let progress = ProgressReporter(quiet: quiet, verbose: verbose)
    if listen != nil {
        var named: [(name: String, folder: String)] = []
        for s in spools {
            let parts = s.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                return usageError("with --listen, --spool takes NAME=FOLDER (NAME a served pipeline), not '\(s)'")
            }
            named.append((String(parts[0]), String(parts[1])))
        }
        serviceSettings.overrides = options.overrides
        return serveHTTP(files, serverSettings, serviceSettings, named, options, progress)
    }
    guard spools.count <= 1 else { return usageError("one --spool per process without --listen") }
    let spool = spools.first
    guard files.count == 1, let file = files.first else {
        return usageError("a spool serves one pipeline file (got \(files.count)); several are served with --listen")
    }
    guard let spool else { return usageError("--spool SPOOL or --listen ADDR:PORT is required\n\n" + serveUsage) }
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

/// `dlpipe serve --listen`: the HTTP service until a signal stops it.
func serveHTTP(
    _ files: [String], _ server: HTTPServer.Settings, _ service: ServiceSettings,
    _ spools: [(name: String, folder: String)],
    _ spoolOptions: ServeOptions, _ progress: ProgressReporter
) -> Int32 {
    do {
        try ServiceRunner.run(
            configs: files, server: server, service: service, spools: spools, spoolOptions: spoolOptions,
            registry: makeRegistry(), progress: progress)
        return 0
    } catch let e as ConfigError {
        printError(e.description)
        return 2
    } catch {
        printError("dlpipe serve: \(error)")
        return 2
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

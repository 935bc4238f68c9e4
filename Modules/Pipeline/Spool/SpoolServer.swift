// `dlpipe serve`: one worker on a spool. It takes its lock, recovers what dead workers left, then loops:
// claim what is in inbox/ (up to a batch), run it through the pipeline built once, commit the batch,
// and wait for more. SIGTERM/SIGINT finish the batch in hand and end the loop; SIGHUP reloads the
// config between batches (a bad new config is reported and the old pipeline kept).
import Foundation
import Dispatch
import Tensor
import FilesAndText

public struct ServeOptions {
    /// Most inputs claimed and committed together.
    public var batchSize = 512
    /// Seconds between looks at inbox/ when inotify is silent (always the case on a shared file system).
    public var pollInterval = 1.0
    /// Process what is queued, then exit (a cron job, a benchmark).
    public var once = false
    /// The worker's name on the spool (default host-pid).
    public var worker: String?
    public var overrides: [String] = []
    public init() {}
}

public struct ServeSummary: Equatable {
    public var tally = BatchTally()
    public var recovered = RecoveredInputs()
}

public final class SpoolServer {
    public let spool: SpoolDirectory
    public let worker: String
    let configPath: String
    let registry: StageRegistry
    let options: ServeOptions
    let progress: ProgressReporter
    /// What runs a batch of claimed files: the pipeline built from the config, or (under the HTTP
    /// service) the dynamic batcher its requests share.
    private(set) var runner: SpoolRunner
    private let lock: WorkerLock
    private let signals: ServeSignals
    /// Whether this server installs the signal handlers (not when the HTTP service it runs in does).
    private let ownsSignals: Bool
    private var summary = ServeSummary()
    private let summaryLock = NSLock()
    /// A batch's commit (mostly waiting on the file system) runs here while the next batch is decoded
    /// and classified; the slot allows one commit in flight.
    private let committer = DispatchQueue(label: "dlpipe.serve.commit")
    private let commitSlot = DispatchSemaphore(value: 1)
    private var commitFailure: Error?

    /// Validates the config for serving, creates the spool's folders and takes the worker's lock; every
    /// problem is reported here, before any input is touched.
    public init(
        config configPath: String, spool root: String, registry: StageRegistry, options: ServeOptions,
        progress: ProgressReporter
    ) throws {
        spool = SpoolDirectory(root)
        self.configPath = configPath
        self.registry = registry
        self.options = options
        self.progress = progress
        worker = options.worker ?? Self.defaultWorkerName()
        let config = try PipelineConfig.load(configPath, overrides: options.overrides, registry: registry)
        if let t = config.threads { Parallel.threads = t }
        runner = SpoolRunner(try ServedPipeline(config, results: spool.results))
        signals = ServeSignals()
        ownsSignals = true
        lock = try Self.prepare(spool, worker: worker)
    }

    /// A spool fed to `runner` (the HTTP service's batcher for pipeline `name`), stopped by `signals`.
    public init(
        spool root: String, name: String, runner: SpoolRunner, options: ServeOptions, signals: ServeSignals,
        progress: ProgressReporter
    ) throws {
        spool = SpoolDirectory(root)
        configPath = name
        registry = StageRegistry()
        self.options = options
        self.progress = progress
        worker = options.worker ?? Self.defaultWorkerName()
        self.runner = runner
        self.signals = signals
        ownsSignals = false
        lock = try Self.prepare(spool, worker: worker)
    }

    /// Creates the spool's folders and takes the worker's lock; every problem is reported here.
    private static func prepare(_ spool: SpoolDirectory, worker: String) throws -> WorkerLock {
        try spool.create()
        if let problem = PipelineConfig.writeProblem(folder: spool.results) {
            throw FileWriteError(path: spool.results, reason: problem)
        }
        guard let lock = try WorkerLock(spool.workerLock(worker)) else {
            throw StageError("serve", "worker '\(worker)' already runs on \(spool.root) (its lock is held)")
        }
        try makeFolder(spool.workerFolder(worker))
        return lock
    }

    /// Runs until SIGTERM/SIGINT (or, with `once`, until nothing is queued); returns what it did.
    public func run() throws -> ServeSummary {
        if ownsSignals { signals.install() }
        let watcher = InboxWatcher(spool.inbox, pollInterval: options.pollInterval)
        progress.info(
            "dlpipe serve: worker \(worker) on \(spool.root), pipeline \(configPath), watching inbox/ with \(watcher.mode)"
        )
        try recover(own: true)
        var lastRecovery = Date(), lastReport = Date(), reported = BatchTally()
        while !signals.stop {
            if ownsSignals && signals.takeReload() { reload() }
            if Date().timeIntervalSince(lastRecovery) > 5 {
                try recover(own: false)
                lastRecovery = Date()
            }
            let entries = spool.inboxEntries(limit: options.batchSize * 4)
            if entries.isEmpty {
                if options.once { break }
                watcher.wait { signals.stop || (ownsSignals && signals.reloadPending) }
                continue
            }
            if try processBatch(rotated(entries)) == 0 {
                // Everything listed was taken by other workers meanwhile: wait rather than spin.
                watcher.wait { signals.stop || (ownsSignals && signals.reloadPending) }
            }
            if Date().timeIntervalSince(lastReport) > 5 {
                let now = tally
                reportRate(since: lastReport, before: reported, now: now)
                lastReport = Date()
                reported = now
            }
        }
        try finishCommits()
        lock.remove()
        rmdir(spool.workerFolder(worker))
        progress.info("dlpipe serve: stopped; \(tally.done) done, \(tally.failed) failed")
        summaryLock.lock()
        defer { summaryLock.unlock() }
        return summary
    }

    private var tally: BatchTally {
        summaryLock.lock()
        defer { summaryLock.unlock() }
        return summary.tally
    }

    /// Claims up to a batch of `entries`, runs them and hands the outcomes to the committer; returns
    /// how many it claimed.
    func processBatch(_ entries: [InboxEntry]) throws -> Int {
        let started = Date()
        var claimed: [String] = []
        for e in entries where claimed.count < options.batchSize {
            if let c = spool.claim(e, for: worker) { claimed.append(c) }
        }
        guard !claimed.isEmpty else { return 0 }
        let claimedAt = Date()
        let outcomes = outcomesOf(claimed)
        let ranAt = Date()
        for name in claimed {
            if case .failed(let reason)? = outcomes[name] { progress.error("failed: \(name): \(reason)") }
        }
        let commit = BatchCommit(spool: spool, worker: worker, model: runner.model)
        let batch = claimed.map { ClaimedOutcome(name: $0, outcome: outcomes[$0]!) }
        commitSlot.wait()
        if let e = commitFailure {
            commitSlot.signal()
            throw e
        }
        committer.async { [self] in
            defer { commitSlot.signal() }
            do {
                let waited = Date()
                let t = try commit.commit(batch, started: started)
                summaryLock.lock()
                summary.tally.done += t.done
                summary.tally.failed += t.failed
                summaryLock.unlock()
                let ms = { (a: Date, b: Date) in String(format: "%.1f", b.timeIntervalSince(a) * 1000) }
                progress.detail(
                    "batch of \(batch.count): \(t.done) done, \(t.failed) failed in \(ms(started, Date())) ms (claim \(ms(started, claimedAt)), run \(ms(claimedAt, ranAt)), commit \(ms(waited, Date())))"
                )
            } catch {
                commitFailure = error
            }
        }
        return claimed.count
    }

    /// Waits for the commit in flight; its failure (a full or failing disk) ends the daemon.
    func finishCommits() throws {
        commitSlot.wait()
        commitSlot.signal()
        if let e = commitFailure { throw e }
    }

    /// Each claimed input's outcome, by claimed name. Non-regular files are refused; a batch whose run
    /// fails as a whole (not one input's fault as far as known) is retried one input at a time, so one
    /// poisonous input cannot fail the others.
    func outcomesOf(_ claimed: [String]) -> [String: ServedOutcome] {
        var out: [String: ServedOutcome] = [:]
        var regular: [String] = []
        for name in claimed {
            if let problem = Self.notRegularFile(spool.workerFolder(worker) + "/" + name) {
                out[name] = .failed(reason: problem)
            } else {
                regular.append(name)
            }
        }
        let folder = spool.workerFolder(worker) + "/"
        func run(_ names: [String]) throws {
            let byPath = try runner.run(names.map { folder + $0 }, stageProgress)
            for n in names {
                // Reasons name the claimed path; the spool name is what the user knows.
                if case .failed(let reason)? = byPath[folder + n] {
                    out[n] = .failed(reason: reason.replacingOccurrences(of: folder, with: ""))
                } else {
                    out[n] = byPath[folder + n]
                }
            }
        }
        guard !regular.isEmpty else { return out }
        do { try run(regular) } catch {
            for n in regular {
                do { try run([n]) } catch {
                    out[n] = .failed(reason: "\(error)".replacingOccurrences(of: folder, with: ""))
                }
            }
        }
        return out
    }

    /// Stages' own messages stay out of the daemon's log: per-input errors are logged (and written to
    /// the error files) by the server, with the input's spool name.
    private let stageProgress = ProgressReporter(isTTY: false, silent: true)

    /// Why `path` is not processed as an input, or nil for a regular file.
    static func notRegularFile(_ path: String) -> String? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return "cannot stat: \(String(cString: strerror(errno)))" }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFLNK: return "refused: a symbolic link (only regular files are processed)"
        case S_IFDIR: return "refused: a folder (only regular files are processed)"
        default: return "refused: not a regular file (a device, FIFO or socket)"
        }
    }

    /// Own leftovers (a previous process of this worker name) and dead workers' inputs.
    func recover(own: Bool) throws {
        var r = RecoveredInputs()
        if own {
            r = try SpoolRecovery.recoverFolder(spool, worker: worker)
        }
        let others = try SpoolRecovery.recoverDeadWorkers(spool, except: worker)
        r.finished += others.finished
        r.requeued += others.requeued
        if r.finished + r.requeued > 0 {
            progress.info(
                "recovered inputs of stopped workers: \(r.finished) already had results (moved on), \(r.requeued) back in inbox/"
            )
        }
        summaryLock.lock()
        summary.recovered.finished += r.finished
        summary.recovered.requeued += r.requeued
        summaryLock.unlock()
    }

    /// SIGHUP: the config is read again; the old pipeline stays if the new one is not valid.
    func reload() {
        do {
            let config = try PipelineConfig.load(configPath, overrides: options.overrides, registry: registry)
            runner = SpoolRunner(try ServedPipeline(config, results: spool.results))
            progress.info("dlpipe serve: reloaded \(configPath)")
        } catch {
            progress.error("dlpipe serve: \(error); keeping the pipeline loaded before")
        }
    }

    func reportRate(since: Date, before: BatchTally, now: BatchTally) {
        let n = now.done + now.failed - before.done - before.failed
        let rate = Double(n) / max(Date().timeIntervalSince(since), 1e-3)
        progress.info("dlpipe serve: \(now.done) done, \(now.failed) failed, \(Int(rate)) files/s")
    }

    /// Names in an order starting at a random place, so workers sharing an inbox mostly claim different files.
    func rotated<T>(_ names: [T]) -> [T] {
        guard names.count > 1 else { return names }
        let k = Int.random(in: 0..<names.count)
        return Array(names[k...] + names[..<k])
    }

    /// "host-pid", with anything but letters, digits, "-", "_" and "." replaced: the name is a folder.
    static func defaultWorkerName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count - 1)
        let host = String(cString: buf)
        return WorkerName.sanitized(host.isEmpty ? "host" : host) + "-\(getpid())"
    }
}

public enum WorkerName {
    /// Whether `s` can name a worker folder: 1–100 of letters, digits, "-", "_", ".", not starting with ".".
    public static func isValid(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 100 && !s.hasPrefix(".") && !s.hasSuffix(".lock")
            && s.unicodeScalars.allSatisfy { allowed($0) }
    }
    static func sanitized(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { allowed($0) ? $0 : "_" }.prefix(60)))
    }
    static func allowed(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "-" || c == "_" || c == "."
    }
}

/// What runs a batch of a spool's claimed files: their outcomes by path, and the model named in results.
public struct SpoolRunner {
    public let run: ([String], ProgressReporter) throws -> [String: ServedOutcome]
    public let model: String?

    public init(model: String?, run: @escaping ([String], ProgressReporter) throws -> [String: ServedOutcome]) {
        self.model = model
        self.run = run
    }

    init(_ pipeline: ServedPipeline) { self.init(model: pipeline.model) { try pipeline.run($0, progress: $1) } }
}

/// The daemon's signals: SIGTERM/SIGINT ask it to stop after the batch in hand (a second one exits at
/// once — safe, since recovery finishes the job), SIGHUP asks for a reload.
public final class ServeSignals: @unchecked Sendable {
    private let lock = NSLock()
    private var stopRequested = false, reloadRequested = false
    private var sources: [DispatchSourceSignal] = []

    public init() {}

    public var stop: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopRequested
    }
    var reloadPending: Bool {
        lock.lock()
        defer { lock.unlock() }
        return reloadRequested
    }
    public func takeReload() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let r = reloadRequested
        reloadRequested = false
        return r
    }

    public func install() {
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [weak self] in self?.handle(sig) }
            s.resume()
            sources.append(s)
        }
    }

    private func handle(_ sig: Int32) {
        lock.lock()
        defer { lock.unlock() }
        if sig == SIGHUP {
            reloadRequested = true
            return
        }
        if stopRequested { _exit(143) }
        stopRequested = true
        FileHandle.standardError.write(Data("\ndlpipe serve: stopping after the batch in hand (signal \(sig))\n".utf8))
    }
}

// Runs a validated pipeline: builds the stages, streams items from the source through every stage,
// then finishes stages in order. SIGINT/SIGTERM/SIGHUP set a flag that stages check between items/steps;
// every output is written atomically, so an interrupted run leaves no partial file.
import Foundation
import Dispatch
import Tensor
import FilesAndText

public struct RunSummary {
    public let succeeded: Int
    public let failures: [(file: String, reason: String)]
}

public enum PipelineRunner {
    /// Runs the pipeline and returns how many inputs succeeded / failed; `resume` lets training stages
    /// continue from their checkpoints.
    public static func run(
        _ config: PipelineConfig, progress: ProgressReporter, resume: Bool = false, shard: Shard? = nil
    ) throws -> RunSummary {
        try config.checkOutputsWritable()
        if let t = config.threads { Parallel.threads = t }
        let ctx = RunContext(progress: progress, stopOnError: config.stopOnError, resume: resume, shard: shard)
        installSignalHandlers()
        let stages = try config.stages.map { try $0.spec.make($0.options) }
        // push(item, k): hand an item to stage k, whose output goes to stage k+1.
        func push(_ item: Item, _ k: Int) throws {
            guard k < stages.count else { return }
            try ctx.checkCancelled()
            try stages[k].process(item, ctx) { try push($0, k + 1) }
        }
        do {
            try stages[0].start(ctx) { try push($0, 1) }
            for k in 0..<stages.count {
                try ctx.checkCancelled()
                try stages[k].finish(ctx) { try push($0, k + 1) }
            }
        } catch is Interruption.Stopped {
            throw RunStopped(reason: "interrupted")
        }
        return RunSummary(succeeded: ctx.succeeded, failures: ctx.failures)
    }

    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []

    /// SIGINT, SIGTERM and SIGHUP ask the run to stop: stages stop at their next check, and outputs
    /// are written only whole. A second signal gives up at once, after removing the temp files of
    /// writes in progress.
    static func installSignalHandlers() {
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler {
                if Interruption.requested {
                    TemporaryFiles.removeAll()
                    _exit(130)
                }
                Interruption.requested = true
                FileHandle.standardError.write(
                    Data("\ndlpipe: stopping (signal \(sig)); no partial outputs are kept\n".utf8))
            }
            s.resume()
            sources.append(s)
        }
    }
}

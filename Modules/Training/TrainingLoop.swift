// The epoch loop every training stage runs. Per epoch: set each optimizer's learning rate, let the
// stage train one pass (it returns the epoch's metrics), record them, and write a checkpoint when one
// is due. With `dlpipe run --resume` it first restores the last checkpoint and carries on after it.
import Foundation
import Tensor
import NN
import Pipeline
import FilesAndText

public final class TrainingLoop {
    public let stage: String
    public let settings: LoopSettings
    public let networks: [(name: String, net: Network)]
    public let groups: [ParameterGroup]
    public let fingerprint: TrainingFingerprint
    /// The stream for data order and augmentation: draw from it only inside epochs, so a checkpoint
    /// taken between epochs captures it.
    public var random: SeededRandom
    public var report: TrainingReport
    /// Epochs already trained (restored by `resumeIfAsked`).
    public private(set) var epochsDone = 0
    let ctx: RunContext

    public init(
        stage: String, settings: LoopSettings, networks: [(name: String, net: Network)], groups: [ParameterGroup],
        fingerprint: TrainingFingerprint, random: SeededRandom, report: TrainingReport, ctx: RunContext
    ) {
        self.stage = stage
        self.settings = settings
        self.networks = networks
        self.groups = groups
        self.fingerprint = fingerprint
        self.random = random
        self.report = report
        self.ctx = ctx
    }

    /// Restores the last checkpoint if the run was started with `--resume` (and one exists).
    public func resumeIfAsked() throws {
        guard ctx.resume, let path = settings.checkpointPath else { return }
        guard FileManager.default.fileExists(atPath: path) else {
            ctx.progress.info("\(stage): no checkpoint at \(path); starting from epoch 1")
            return
        }
        let r = try TrainingCheckpoint.restore(
            from: path, stage: stage, fingerprint: fingerprint, epochs: settings.epochs,
            networks: networks, groups: groups)
        guard let data = r.random["data"] else { throw CheckpointError(file: path, message: "no random stream 'data'") }
        random = data
        report.epochs = r.history
        report.trainSeconds = r.trainSeconds
        report.curve = r.curve
        epochsDone = r.epochsDone
        ctx.progress.info("\(stage): resumed from \(path) after epoch \(epochsDone) of \(settings.epochs)")
    }

    /// Trains the remaining epochs; `epoch(e)` trains epoch e (0-based) and returns its metrics. With a time
    /// budget, the epochs that fit it are planned again after every epoch from the mean epoch time so far.
    public func run(_ epoch: (Int) throws -> [Metric]) throws {
        var planned = plannedEpochs()
        while epochsDone < planned {
            try ctx.checkCancelled()
            for g in groups { g.startEpoch(epochsDone, of: planned) }
            for (_, n) in networks { n.train() }
            let t0 = Date()
            let metrics = try epoch(epochsDone)
            report.trainSeconds += Date().timeIntervalSince(t0)
            report.epochs.append(metrics)
            epochsDone += 1
            planned = plannedEpochs()
            if settings.checkpointEvery > 0 && (epochsDone % settings.checkpointEvery == 0 || epochsDone == planned) {
                try writeCheckpoint()
            }
        }
        if planned < settings.epochs {
            let note = String(
                format: "%g min: stopped after %d of %d epochs (%.1f s of training)", settings.timeBudget, epochsDone,
                settings.epochs, report.trainSeconds)
            report.settings.append(("time budget", note))
            ctx.progress.info("\(stage): time budget \(note)")
        }
    }

    /// The epochs to train: all of them, or with a time budget as many as fit it at the mean epoch time so
    /// far (never fewer than those done).
    func plannedEpochs() -> Int {
        guard settings.timeBudget > 0, epochsDone > 0, report.trainSeconds > 0 else { return settings.epochs }
        let perEpoch = report.trainSeconds / Double(epochsDone)
        let fit = Int((settings.timeBudget * 60 / perEpoch).rounded(.down))
        return Swift.max(epochsDone, Swift.min(settings.epochs, fit))
    }

    func writeCheckpoint() throws {
        guard let path = settings.checkpointPath else { return }
        do {
            try makeParentFolder(path)
            try TrainingCheckpoint.write(
                to: path, stage: stage, fingerprint: fingerprint, epochsDone: epochsDone,
                networks: networks, groups: groups, random: [("data", random)], report: report)
        } catch { throw StageError(stage, "cannot write checkpoint: \(error)") }
        ctx.progress.detail("\(stage): checkpoint after epoch \(epochsDone) in \(path)")
    }

    /// Where the last checkpoint is, for messages about a failed run.
    public var lastCheckpoint: String? {
        guard settings.checkpointEvery > 0, let p = settings.checkpointPath, FileManager.default.fileExists(atPath: p)
        else { return nil }
        return p
    }
}

/// A training run that cannot go on.
public struct TrainingError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// What every classifier-training stage does around its own data: the checkpoint fingerprint and report
// settings, the training loop with resume, the held-out evaluation's figures, the model written with its
// report, and the min_test_accuracy check. vision.train and sequence.train supply their network, batches
// and the predictions for their test items.
import Foundation
import Tensor
import NN
import Pipeline

public struct ClassifierTrainingStage {
    public let options: ClassifierTrainingOptions
    public var stage: String { options.stage }

    public init(_ options: ClassifierTrainingOptions) { self.options = options }

    /// The skeleton for member `i` of an ensemble of `n`: its own seed (the stage's seed + i), checkpoint
    /// file and share of the time budget.
    public func member(_ i: Int, of n: Int) -> ClassifierTrainingStage {
        guard n > 1 else { return self }
        var o = options
        o.loop.seed += i
        if i > 0 { o.loop.checkpointPath = o.loop.checkpointPath.map { $0 + ".member\(i)" } }
        o.loop.timeBudget /= Double(n)
        return ClassifierTrainingStage(o)
    }

    /// What a checkpoint must match: the network (with `inputAndClasses`), the data's identity, and the
    /// optimizer, batch, seed and the stage's own `settings`.
    public func fingerprint(_ net: Network, inputAndClasses: String, data: String, settings: [String])
        -> TrainingFingerprint
    {
        let common = [
            options.optimizer.kind.rawValue, "\(options.optimizer)", "batch \(options.loop.batchSize)",
            "seed \(options.loop.seed)",
        ]
        return TrainingFingerprint(
            network: LayerSpec.json(net.layers) + inputAndClasses, data: data,
            settings: (common + settings).joined(separator: "\n"))
    }

    /// A report with the network and the settings: batch, seed, optimizer, the stage's own, threads.
    public func newReport(_ net: Network, settings: [(String, String)]) -> TrainingReport {
        var r = TrainingReport(title: "dlpipe \(stage) — \(URL(fileURLWithPath: options.model).lastPathComponent)")
        r.networks = [("model", net.summary)]
        r.settings =
            [("batch size", "\(options.loop.batchSize)"), ("seed", "\(options.loop.seed)")] + options.optimizer.summary
            + settings + [("threads", "\(Parallel.threads)")]
        return r
    }

    /// Trains `net` on shuffled batches of `batches` for the configured epochs (resuming from the last
    /// checkpoint with `dlpipe run --resume`), tracking `validation`; returns the report so far.
    public func train<Source: BatchSource>(
        _ net: Network, batches: Source, validation: LabelledBatch?, throughputName: String,
        fingerprint: TrainingFingerprint, report: TrainingReport, random: SeededRandom,
        ctx: RunContext
    ) throws -> TrainingReport where Source.Batch == LabelledBatch {
        let loop = options.loop
        let group = ParameterGroup("model", parameters: net.parameters, settings: options.optimizer)
        let training = TrainingLoop(
            stage: stage, settings: loop, networks: [("model", net)], groups: [group],
            fingerprint: fingerprint, random: random, report: report, ctx: ctx)
        try training.resumeIfAsked()
        let trainer = ClassifierTrainer(net: net, group: group, throughputName: throughputName)
        try training.run { e in
            let loader = BatchLoader(
                batches, batchSize: loop.batchSize, seed: training.random.next(), minimumBatch: net.minimumTrainingBatch
            )
            return try trainer.epoch(
                e, of: loop.epochs, batches: loader, batchCount: loader.batchCount, validation: validation,
                ctx: ctx, lastCheckpoint: training.lastCheckpoint)
        }
        return training.report
    }

    /// The test items the model can answer: each one whose label never occurs in training, or that
    /// `problem` finds unfit, is reported as a failed input and left out.
    public func answerable<T>(
        _ items: [T], label: (T) -> String, file: (T) -> String, classes index: [String: Int],
        problem: (T) -> String?, ctx: RunContext
    ) throws -> [T] {
        var known: [T] = []
        for t in items {
            if index[label(t)] == nil {
                try ctx.fail(file(t), "test label '\(label(t))' never occurs in training")
                continue
            }
            if let p = problem(t) {
                try ctx.fail(file(t), p)
                continue
            }
            known.append(t)
        }
        return known
    }

    /// The held-out figures: the report's results (with `extraResults`), headline and confusion matrix
    /// (after the `before` sections, before the `after` ones), and a progress line; `unit` names the
    /// examples ("images", "clips").
    @discardableResult
    public func evaluate(
        classes: [String], truth: [Int], predicted: [Int], unit: String, extraResults: [(String, String)] = [],
        before: [ReportSection] = [], after: [ReportSection] = [], report: inout TrainingReport,
        ctx: RunContext
    ) -> ClassifierEvaluation {
        let ev = ClassifierEvaluation(classes: classes, truth: truth, predicted: predicted)
        report.results = ev.metricsFields(prefix: "test") + extraResults
        report.headline = String(
            format: "Held-out accuracy: %.2f %% on %d %@ · training %.1f s · %d epochs",
            100 * ev.accuracy, ev.total, unit, report.trainSeconds, report.epochs.count)
        report.sections += before + [.confusion(title: "Confusion matrix (held-out)", ev)] + after
        ctx.progress.info(
            String(
                format: "held-out accuracy: %.2f %% (%d %@), training %.1f s", 100 * ev.accuracy, ev.total, unit,
                report.trainSeconds))
        return ev
    }

    /// The report's results when no test items arrived.
    public func noTestItems(_ report: inout TrainingReport) { report.results = [("test_accuracy", "null")] }

    /// Writes the model (one network or an ensemble's members), metrics.json and report.html together, then
    /// fails the run when the held-out accuracy is below min_test_accuracy.
    public func finish(
        _ nets: [Network], description: ModelFile, report: TrainingReport, accuracy: Double?, ctx: RunContext
    ) throws {
        try description.withResults(of: report).writeTogether(
            nets, to: options.model, report: report, metrics: options.metrics, html: options.report,
            stage: stage, ctx: ctx)
        if let accuracy, accuracy < options.minTestAccuracy {
            throw StageError(
                stage,
                String(
                    format: "held-out accuracy %.4f is below min_test_accuracy %.4f", accuracy, options.minTestAccuracy)
            )
        }
    }
}

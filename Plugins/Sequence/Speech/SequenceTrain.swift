// sequence.train: trains a recurrent classifier (by default a 2 × 64 LSTM) on the feature sequences it
// receives (split "train"), evaluates on the "test" items — overall, per class and per speaker — and
// writes the model, metrics.json and report.html together. Network, optimizer, epoch loop, checkpoints,
// batching and report are the shared Training module's; this stage gathers and prepares the sequences,
// picks the validation split, and reports.
import Foundation
import Tensor
import NN
import Pipeline
import Training

final class SequenceTrain: Stage {
    let o: StageOptions
    let layers: [LayerSpec]
    let loop: LoopSettings
    let optimizer: OptimizerSettings
    let normalization: FeatureNormalization
    let masks: SpecAugment
    let speakers: SpeakerPattern
    var train: [LabelledSequence] = []
    var test: [LabelledSequence] = []

    static let defaultLayers: [LayerSpec] = [.recurrent(RecurrentSpec(.lstm, hidden: 64, layers: 2))]

    init(_ o: StageOptions) throws {
        self.o = o
        layers = try o.node("layers").map(LayerListParser.parse) ?? Self.defaultLayers
        loop = LoopSettings(o, model: o.string("model"))
        optimizer = OptimizerSettings(o)
        normalization = FeatureNormalization(rawValue: o.string("normalize"))!
        masks = SpecAugment(timeMasks: o.int("time_masks"), timeWidth: o.int("time_mask_frames"),
                            featureMasks: o.int("feature_masks"), featureWidth: o.int("feature_mask_width"))
        speakers = try SpeakerPattern(o.string("speaker_pattern"), stage: "sequence.train")
    }

    static let spec = StageSpec(
        name: "sequence.train", summary: "Train an LSTM/GRU classifier on feature sequences (audio.mfcc, audio.melspec); evaluate per speaker; write model, metrics, report",
        consumes: [.features], produces: .none,
        options: [
            OptionSpec("model", .outputFile, required: true, doc: "where to write the trained model (.safetensors)"),
            OptionSpec("layers", .custom(summary: "layer list", validate: { _ = try LayerListParser.parse($0) }),
                       doc: "network, e.g. [{lstm: {hidden: 64, layers: 2}}] (the default); the output layer is added"),
        ] + LoopSettings.options() + OptimizerSettings.options() + [
            OptionSpec("normalize", .choice(FeatureNormalization.allCases.map { $0.rawValue }), default: .string("clip"),
                       doc: "clip: zero mean, unit variance per feature over each clip's frames (recorded in the model; classify does the same)"),
            OptionSpec("time_masks", .int(0...20), default: .int(0), doc: "SpecAugment: masked stretches of frames per training example"),
            OptionSpec("time_mask_frames", .int(0...1000), default: .int(0), doc: "SpecAugment: longest masked stretch, frames (at most a fifth of the clip)"),
            OptionSpec("feature_masks", .int(0...20), default: .int(0), doc: "SpecAugment: masked bands of features per training example"),
            OptionSpec("feature_mask_width", .int(0...512), default: .int(0), doc: "SpecAugment: widest masked band, features"),
            OptionSpec("speaker_pattern", .string, default: .string(SpeakerPattern.defaultPattern),
                       doc: "regular expression whose group 1 is the speaker in a file name (FSDD: 7_theo_12.flac → theo)"),
            OptionSpec("validation_speakers", .stringList, doc: "training speakers held out to track per epoch (their clips are not trained on)"),
            OptionSpec("validation_split", .float(0...0.9), default: .float(0), doc: "without validation_speakers: fraction of training inputs held out at random"),
            OptionSpec("metrics", .outputFile, doc: "write metrics.json here"),
            OptionSpec("report", .outputFile, doc: "write report.html here"),
            OptionSpec("min_test_accuracy", .float(0...1), default: .float(0), doc: "fail the run if held-out accuracy is below this"),
        ],
        make: { try SequenceTrain($0) })

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let f = item.features else { return }
        guard let label = item.label else {
            try ctx.fail(item.file, "sequence.train needs labelled clips (read them with read.audio train:/test: or a manifest)")
            return
        }
        guard f.rank == 2, f.shape[0] >= 1, f.shape[1] >= 1 else {
            try ctx.fail(item.file, "no frames to learn from (features \(f.shape))")
            return
        }
        let example = LabelledSequence(features: normalization.apply(f), label: label, file: item.file,
                                       speaker: speakers.speaker(of: item.file), isCopy: item[.augmentedCopy] != nil)
        if item.split == .test { test.append(example) } else { train.append(example) }
        if !example.isCopy { ctx.countSuccess(item.file) }
    }

    func finish(_ ctx: RunContext, emit: Emit) throws {
        let data = try TrainingSequences(train, stage: "sequence.train")
        var random = SeededRandom(seed: UInt64(loop.seed))
        let split = data.split(validationSpeakers: Set(o.strings("validation_speakers")), fraction: o.float("validation_split"), random: &random)
        guard !split.train.isEmpty else { throw StageError("sequence.train", "every training clip is in validation; name fewer validation_speakers") }
        let net = try buildNetwork(data)
        ctx.progress.info("sequence.train: \(split.train.count) training sequences, \(split.validation.count) validation, \(test.count) test, \(data.classes.count) classes, \(data.featureWidth) features")
        ctx.progress.info(net.summaryTable())

        let group = ParameterGroup("model", parameters: net.parameters, settings: optimizer)
        let training = TrainingLoop(stage: "sequence.train", settings: loop, networks: [("model", net)], groups: [group],
                                    fingerprint: fingerprint(net, data), random: random, report: newReport(net, split), ctx: ctx)
        try training.resumeIfAsked()
        let trainer = ClassifierTrainer(net: net, group: group, throughputName: "sequences_per_s")
        let masks = self.masks
        let batches = SequenceBatches(sequences: split.train.map { $0.features }, labels: split.train.map { data.index[$0.label]! },
                                      augment: masks.isActive ? { x, r in masks.apply(x, &r) } : nil)
        let validation = data.batch(split.validation)
        try training.run { e in
            let loader = BatchLoader(batches, batchSize: loop.batchSize, seed: training.random.next())
            return try trainer.epoch(e, of: loop.epochs, batches: loader, batchCount: loader.batchCount, validation: validation,
                                     ctx: ctx, lastCheckpoint: training.lastCheckpoint)
        }
        var report = training.report
        let accuracy = try evaluateTest(net, data, ctx, &report)
        try writeOutputs(net, data, report, ctx)
        if let acc = accuracy, acc < o.float("min_test_accuracy") {
            throw StageError("sequence.train", String(format: "held-out accuracy %.4f is below min_test_accuracy %.4f", acc, o.float("min_test_accuracy")))
        }
    }

    /// The network for these sequences, refused before any weight exists if training it would exceed
    /// the memory limit.
    func buildNetwork(_ data: TrainingSequences) throws -> Network {
        let all = layers + [.classifierHead(classes: data.classes.count)], shape = [data.longest, data.featureWidth]
        do {
            try MemoryEstimate.of(all, input: shape).checkTraining(batch: loop.batchSize, limit: o.memoryLimit)
            let net = try Network(layers: all, inputShape: shape, seed: UInt64(loop.seed))
            guard net.outputShape == [data.classes.count] else {
                throw NetworkError("its output is \(net.outputShape) per clip; a classifier needs one vector per clip (end the recurrent layers with sequence: false)")
            }
            return net
        } catch let e as NetworkError { throw StageError("sequence.train", e.message) }
    }

    /// What a checkpoint must match: the network, the training sequences, and the settings that steer training.
    func fingerprint(_ net: Network, _ data: TrainingSequences) -> TrainingFingerprint {
        let settings = [o.string("optimizer"), "\(optimizer)", "batch \(loop.batchSize)", "seed \(loop.seed)", "normalize \(normalization)",
                        "masks \(masks)", "validation \(o.strings("validation_speakers")) \(o.float("validation_split"))"]
        return TrainingFingerprint(network: LayerSpec.json(net.layers) + "\(data.featureWidth)\(data.classes)",
                                   data: data.identity, settings: settings.joined(separator: "\n"))
    }

    func newReport(_ net: Network, _ split: TrainingSequences.Split) -> TrainingReport {
        var r = TrainingReport(title: "dlpipe sequence.train — \(URL(fileURLWithPath: o.string("model")).lastPathComponent)")
        r.networks = [("model", net.summary)]
        let copies = split.train.filter { $0.isCopy }.count
        r.settings = [("batch size", "\(loop.batchSize)"), ("seed", "\(loop.seed)")] + optimizer.summary
            + [("normalisation", normalization == .clip ? "per clip, per feature" : "none"),
               ("SpecAugment", masks.isActive ? "\(masks.timeMasks) × ≤\(masks.timeWidth) frames, \(masks.featureMasks) × ≤\(masks.featureWidth) features" : "none"),
               ("training sequences", "\(split.train.count) (\(copies) augmented copies)"),
               ("validation", o.strings("validation_speakers").isEmpty ? "\(split.validation.count) random inputs" : "speakers \(o.strings("validation_speakers").joined(separator: ", ")) (\(split.validation.count) clips)"),
               ("threads", "\(Parallel.threads)")]
        return r
    }

    /// Accuracy on the test items (nil when there are none), with the report's test sections.
    func evaluateTest(_ net: Network, _ data: TrainingSequences, _ ctx: RunContext, _ report: inout TrainingReport) throws -> Double? {
        guard !test.isEmpty else {
            report.results = [("test_accuracy", "null")]
            return nil
        }
        var known: [LabelledSequence] = []
        for t in test {
            if data.index[t.label] == nil { try ctx.fail(t.file, "test label '\(t.label)' never occurs in training"); continue }
            if t.features.shape[1] != data.featureWidth {
                try ctx.fail(t.file, "has \(t.features.shape[1]) features per frame, the model \(data.featureWidth)"); continue
            }
            known.append(t)
        }
        let truth = known.map { data.index[$0.label]! }
        let predicted = Inference.evaluate(net, sequences: known.map { $0.features }, training: false).argmaxRows()
        let ev = ClassifierEvaluation(classes: data.classes, truth: truth, predicted: predicted)
        let bySpeaker = SpeakerAccuracy(speakers: known.map { $0.speaker }, truth: truth, predicted: predicted)
        report.results = ev.metricsFields(prefix: "test") + [("test_accuracy_by_speaker", bySpeaker.json)]
        report.headline = String(format: "Held-out accuracy: %.2f %% on %d clips · training %.1f s · %d epochs",
                                 100 * ev.accuracy, ev.total, report.trainSeconds, report.epochs.count)
        report.sections.append(bySpeaker.table)
        report.sections.append(.confusion(title: "Confusion matrix (held-out)", ev))
        ctx.progress.info(String(format: "held-out accuracy: %.2f %% (%d clips), training %.1f s", 100 * ev.accuracy, ev.total, report.trainSeconds))
        for r in bySpeaker.rows { ctx.progress.info("  \(r.speaker): " + String(format: "%.2f %% of %d", 100 * r.accuracy, r.total)) }
        return ev.accuracy
    }

    /// The model, metrics.json and report.html, committed together.
    func writeOutputs(_ net: Network, _ data: TrainingSequences, _ report: TrainingReport, _ ctx: RunContext) throws {
        let model = ModelFile(task: "sequence.train", layers: net.layers, inputShape: [data.longest, data.featureWidth], labels: data.classes,
                              preprocessing: [FeatureNormalization.key: normalization.rawValue,
                                              "input": "feature sequences [frames, \(data.featureWidth)] of any length (the first dimension is the longest training clip's)"])
        try model.writeTogether(net, to: o.string("model"), report: report, metrics: o.optionalString("metrics"), html: o.optionalString("report"),
                                stage: "sequence.train", ctx: ctx)
    }
}

// sequence.train: trains a recurrent classifier (by default a 2 × 64 LSTM) on the feature sequences it
// receives (split "train"), evaluates on the "test" items — overall, per class and per speaker — and
// writes the model, metrics.json and report.html together. The skeleton (loop, checkpoints, evaluation,
// outputs) is the shared ClassifierTrainingStage; this stage gathers and prepares the sequences, picks the
// validation speakers, and reports per speaker.
import Foundation
import Tensor
import NN
import Pipeline
import Training

/// sequence.train's options, parsed once.
struct SequenceTrainOptions {
    enum Key: String, OptionKey {
        case normalize, timeMasks = "time_masks", timeMaskFrames = "time_mask_frames", featureMasks = "feature_masks"
        case featureMaskWidth = "feature_mask_width", speakerPattern = "speaker_pattern", validationSpeakers =
            "validation_speakers"
        case groupPattern = "group_pattern", members
    }

    static let defaultLayers: [LayerSpec] = [.recurrent(RecurrentSpec(.lstm, hidden: 64, layers: 2))]

    let common: ClassifierTrainingOptions
    let normalization: FeatureNormalization
    let masks: SpecAugment
    let speakers: SpeakerPattern
    /// Training speakers held out to track per epoch.
    let validationSpeakers: [String]
    /// Which group each validation voice belongs to.
    let groups: VoiceGroupPattern
    /// Networks trained with seeds seed, seed+1, …, written to one model file and averaged when classifying.
    let members: Int

    init(_ o: StageOptions) throws {
        common = try ClassifierTrainingOptions(o, defaultLayers: Self.defaultLayers)
        normalization = FeatureNormalization(rawValue: o.string(Key.normalize))!
        masks = SpecAugment(
            timeMasks: o.int(Key.timeMasks), timeWidth: o.int(Key.timeMaskFrames),
            featureMasks: o.int(Key.featureMasks), featureWidth: o.int(Key.featureMaskWidth))
        speakers = try SpeakerPattern(o.string(Key.speakerPattern), stage: "sequence.train")
        validationSpeakers = o.strings(Key.validationSpeakers)
        groups = try VoiceGroupPattern(o.string(Key.groupPattern), stage: "sequence.train")
        members = o.int(Key.members)
    }

    static let specs: [OptionSpec] =
        ClassifierTrainingOptions.headOptions(layersExample: "[{lstm: {hidden: 64, layers: 2}}] (the default)") + [
            OptionSpec(
                Key.normalize, .choice(FeatureNormalization.allCases.map { $0.rawValue }), default: .string("clip"),
                doc:
                    "clip: zero mean, unit variance per feature over each clip's frames (recorded in the model; classify does the same)"
            ),
            OptionSpec(
                Key.timeMasks, .int(0...20), default: .int(0),
                doc: "SpecAugment: masked stretches of frames per training example"),
            OptionSpec(
                Key.timeMaskFrames, .int(0...1000), default: .int(0),
                doc: "SpecAugment: longest masked stretch, frames (at most a fifth of the clip)"),
            OptionSpec(
                Key.featureMasks, .int(0...20), default: .int(0),
                doc: "SpecAugment: masked bands of features per training example"),
            OptionSpec(
                Key.featureMaskWidth, .int(0...512), default: .int(0), doc: "SpecAugment: widest masked band, features"),
            OptionSpec(
                Key.speakerPattern, .string, default: .string(SpeakerPattern.defaultPattern),
                doc: "regular expression whose group 1 is the speaker in a file name (FSDD: 7_theo_12.flac → theo)"),
            OptionSpec(
                Key.validationSpeakers, .stringList,
                doc: "training speakers held out to track per epoch (their clips are not trained on)"),
            OptionSpec(
                Key.members, .int(1...16), default: .int(1),
                doc:
                    "train an ensemble of N networks (seeds seed … seed+N−1, one after another) into one model file; sequence.classify averages their probabilities"
            ),
            OptionSpec(
                Key.groupPattern, .string, default: .string(""),
                doc:
                    "regular expression whose group 1 is the group of a validation voice, read from the voice's name (e.g. ^(women|men)-): accuracy is also reported per group"
            ),
        ]
        + ClassifierTrainingOptions.tailOptions(
            validationDoc: "without validation_speakers: fraction of training inputs held out at random")
}

final class SequenceTrain: Stage {
    let options: SequenceTrainOptions
    let skeleton: ClassifierTrainingStage
    var common: ClassifierTrainingOptions { options.common }
    var train: [LabelledSequence] = []
    var test: [LabelledSequence] = []
    /// The validation split's clips (read.audio `validation:`), scored after training, never trained on.
    var validationVoices: [LabelledSequence] = []

    init(_ o: StageOptions) throws {
        options = try SequenceTrainOptions(o)
        skeleton = ClassifierTrainingStage(options.common)
    }

    static let spec = StageSpec(
        name: "sequence.train",
        summary:
            "Train an LSTM/GRU classifier on feature sequences (audio.mfcc, audio.melspec); evaluate per speaker; write model, metrics, report",
        consumes: [.features], produces: .none, options: SequenceTrainOptions.specs, make: { try SequenceTrain($0) })

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let f = item.features else { return }
        guard let label = item.label else {
            try ctx.fail(
                item.file, "sequence.train needs labelled clips (read them with read.audio train:/test: or a manifest)")
            return
        }
        guard f.rank == 2, f.shape[0] >= 1, f.shape[1] >= 1 else {
            try ctx.fail(item.file, "no frames to learn from (features \(f.shape))")
            return
        }
        let example = LabelledSequence(
            features: options.normalization.apply(f), label: label, file: item.file,
            speaker: options.speakers.speaker(of: item.file), isCopy: item[.augmentedCopy] != nil)
        switch item.split {
        case .test: test.append(example)
        case .validation: validationVoices.append(example)
        case .train, .predict: train.append(example)
        }
        if !example.isCopy { ctx.countSuccess(item.file) }
    }

    func finish(_ ctx: RunContext, emit: Emit) throws {
        let data = try TrainingSequences(train, stage: "sequence.train")
        var random = SeededRandom(seed: UInt64(common.loop.seed))
        let split = data.split(
            validationSpeakers: Set(options.validationSpeakers), fraction: common.validationSplit, random: &random)
        guard !split.train.isEmpty else {
            throw StageError("sequence.train", "every training clip is in validation; name fewer validation_speakers")
        }
        ctx.progress.info(
            "sequence.train: \(split.train.count) training sequences, \(split.validation.count) validation, \(test.count) test, \(data.classes.count) classes, \(data.featureWidth) features"
        )
        var members: [Network] = [], report = TrainingReport(title: "")
        for i in 0..<options.members {
            let member = skeleton.member(i, of: options.members)
            if options.members > 1 { ctx.progress.info("sequence.train: member \(i + 1) of \(options.members)") }
            let (net, memberReport) = try trainMember(
                member, data, split, random: i == 0 ? random : SeededRandom(seed: UInt64(member.options.loop.seed)),
                ctx: ctx)
            if i == 0 {
                report = memberReport
            } else {
                report.trainSeconds += memberReport.trainSeconds
            }
            members.append(net)
        }
        let description = ModelFile(
            task: "sequence.train", layers: members[0].layers, inputShape: [data.longest, data.featureWidth],
            labels: data.classes,
            preprocessing: [
                FeatureNormalization.key: options.normalization.rawValue,
                "input":
                    "feature sequences [frames, \(data.featureWidth)] of any length (the first dimension is the longest training clip's)",
            ])
        let ensemble = ClassifierEnsemble(members: members, model: description)
        let accuracy = try evaluateTest(ensemble, data, ctx, &report)
        try scoreValidationVoices(ensemble, data, ctx, &report)
        try skeleton.finish(members, description: description, report: report, accuracy: accuracy, ctx: ctx)
    }

    /// Builds and trains one network (the model, or one member of an ensemble) with `member`'s seed.
    func trainMember(
        _ member: ClassifierTrainingStage, _ data: TrainingSequences, _ split: TrainingSequences.Split,
        random: SeededRandom, ctx: RunContext
    ) throws -> (Network, TrainingReport) {
        let net = try buildNetwork(data, seed: member.options.loop.seed)
        if member.options.loop.seed == common.loop.seed { ctx.progress.info(net.summaryTable()) }
        let masks = options.masks
        let fingerprint = member.fingerprint(
            net, inputAndClasses: "\(data.featureWidth)\(data.classes)", data: data.identity,
            settings: [
                "normalize \(options.normalization)", "masks \(masks)",
                "validation \(options.validationSpeakers) \(common.validationSplit)",
            ])
        let batches = SequenceBatches(
            sequences: split.train.map { $0.features }, labels: split.train.map { data.index[$0.label]! },
            augment: masks.isActive ? { x, r in masks.apply(x, &r) } : nil)
        let report = try member.train(
            net, batches: batches, validation: data.batch(split.validation), throughputName: "sequences_per_s",
            fingerprint: fingerprint, report: member.newReport(net, settings: reportSettings(split)),
            random: random, ctx: ctx)
        return (net, report)
    }

    /// The network for these sequences, refused before any weight exists if training it would exceed
    /// the memory limit.
    func buildNetwork(_ data: TrainingSequences, seed: Int) throws -> Network {
        let all = common.layers + [.classifierHead(classes: data.classes.count)],
            shape = [data.longest, data.featureWidth]
        do {
            try MemoryEstimate.of(all, input: shape).checkTraining(
                batch: common.loop.batchSize, limit: common.memoryLimit)
            let net = try Network(layers: all, inputShape: shape, seed: UInt64(seed))
            guard net.outputShape == [data.classes.count] else {
                throw NetworkError(
                    "its output is \(net.outputShape) per clip; a classifier needs one vector per clip (end the recurrent layers with sequence: false)"
                )
            }
            return net
        } catch let e as NetworkError { throw StageError("sequence.train", e.message) }
    }

    /// The report's rows for this stage's own settings.
    func reportSettings(_ split: TrainingSequences.Split) -> [(String, String)] {
        let masks = options.masks, copies = split.train.filter { $0.isCopy }.count
        return [
            ("normalisation", options.normalization == .clip ? "per clip, per feature" : "none"),
            (
                "SpecAugment",
                masks.isActive
                    ? "\(masks.timeMasks) × ≤\(masks.timeWidth) frames, \(masks.featureMasks) × ≤\(masks.featureWidth) features"
                    : "none"
            ),
            ("training sequences", "\(split.train.count) (\(copies) augmented copies)"),
            (
                "validation",
                options.validationSpeakers.isEmpty
                    ? "\(split.validation.count) random inputs"
                    : "speakers \(options.validationSpeakers.joined(separator: ", ")) (\(split.validation.count) clips)"
            ),
        ] + (options.members > 1 ? [("ensemble", "\(options.members) members; the curves are the first's")] : [])
    }

    /// Accuracy on the test items (nil when there are none), overall and per speaker, with the report's test sections.
    func evaluateTest(
        _ net: ClassifierEnsemble, _ data: TrainingSequences, _ ctx: RunContext, _ report: inout TrainingReport
    )
        throws -> Double?
    {
        guard !test.isEmpty else {
            skeleton.noTestItems(&report)
            return nil
        }
        let (known, truth, predicted) = try predictions(net, data, for: test, ctx)
        let bySpeaker = SpeakerAccuracy(speakers: known.map { $0.speaker }, truth: truth, predicted: predicted)
        let ev = skeleton.evaluate(
            classes: data.classes, truth: truth, predicted: predicted, unit: "clips",
            extraResults: [("test_accuracy_by_speaker", bySpeaker.json)], before: [bySpeaker.table],
            report: &report, ctx: ctx)
        for r in bySpeaker.rows {
            ctx.progress.info("  \(r.speaker): " + String(format: "%.2f %% of %d", 100 * r.accuracy, r.total))
        }
        return ev.accuracy
    }

    /// The validation voices' figures in the report and metrics, when there are any.
    func scoreValidationVoices(
        _ net: ClassifierEnsemble, _ data: TrainingSequences, _ ctx: RunContext, _ report: inout TrainingReport
    ) throws {
        guard !validationVoices.isEmpty else { return }
        let (known, truth, predicted) = try predictions(net, data, for: validationVoices, ctx)
        guard !known.isEmpty else { return }
        let scores = ValidationVoiceScores(
            voices: known.map { $0.speaker }, truth: truth, predicted: predicted, groups: options.groups)
        report.results += scores.results
        report.sections += scores.sections
        for line in scores.progressLines { ctx.progress.info(line) }
    }

    /// The held-out examples the model can answer (known class, right width), their classes and the
    /// model's predictions.
    func predictions(
        _ net: ClassifierEnsemble, _ data: TrainingSequences, for examples: [LabelledSequence], _ ctx: RunContext
    )
        throws -> (known: [LabelledSequence], truth: [Int], predicted: [Int])
    {
        let known = try skeleton.answerable(
            examples, label: { $0.label }, file: { $0.file }, classes: data.index,
            problem: {
                $0.features.shape[1] == data.featureWidth
                    ? nil : "has \($0.features.shape[1]) features per frame, the model \(data.featureWidth)"
            }, ctx: ctx)
        let truth = known.map { data.index[$0.label]! }
        let predicted = net.logits { Inference.evaluate($0, sequences: known.map { $0.features }, training: false) }
            .argmaxRows()
        return (known, truth, predicted)
    }
}

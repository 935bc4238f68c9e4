// vision.train: trains a CNN classifier on the image items it receives (split "train"), evaluates on
// the "test" items (never used for training or tuning), and writes the model, metrics.json and
// report.html together. The skeleton (loop, checkpoints, evaluation, outputs) is the shared
// ClassifierTrainingStage; this stage gathers images, augments them, and shows the misclassified ones.
import Foundation
import Tensor
import NN
import Media
import Pipeline
import Training

/// vision.train's options, parsed once.
struct VisionTrainOptions {
    /// The augmentation options as given.
    struct Augmentation: Decodable, CustomStringConvertible {
        enum CodingKeys: String, CodingKey, OptionKey {
            case augment, rotation, shift, scaleMin = "scale_min", scaleMax = "scale_max"
        }
        let augment: Bool
        let rotation: Double, shift: Double, scaleMin: Double, scaleMax: Double

        var description: String { "rotation ±\(rotation)°, shift ±\(shift) px, scale \(scaleMin)–\(scaleMax)" }
        /// Every value, even when off, as the checkpoint fingerprint records them.
        var settingsText: String { "augment \(augment) \(rotation) \(shift) \(scaleMin) \(scaleMax)" }
    }

    let common: ClassifierTrainingOptions
    let augmentation: Augmentation

    init(_ o: StageOptions) throws {
        common = try ClassifierTrainingOptions(o, defaultLayers: LayerSpec.seedCNN)
        augmentation = try o.decode(Augmentation.self)
        guard augmentation.scaleMin <= augmentation.scaleMax else {
            throw ConfigError(o.position, "vision.train: scale_min must not exceed scale_max")
        }
    }

    static let specs: [OptionSpec] =
        ClassifierTrainingOptions.headOptions(
            layersExample: "[{conv: {filters: 32, size: 3}}, {maxpool: 2}, {dense: 64}] (default: seed CNN)") + [
            OptionSpec(
                Augmentation.CodingKeys.augment, .bool, default: .bool(false),
                doc: "random affine augmentation of training images"),
            OptionSpec(
                Augmentation.CodingKeys.rotation, .float(0...180), default: .float(10),
                doc: "augmentation: max rotation in degrees"),
            OptionSpec(
                Augmentation.CodingKeys.shift, .float(0...100), default: .float(2),
                doc: "augmentation: max shift in pixels"),
            OptionSpec(
                Augmentation.CodingKeys.scaleMin, .float(0.1...10), default: .float(0.9),
                doc: "augmentation: smallest scale"),
            OptionSpec(
                Augmentation.CodingKeys.scaleMax, .float(0.1...10), default: .float(1.1),
                doc: "augmentation: largest scale"),
        ]
        + ClassifierTrainingOptions.tailOptions(
            validationDoc: "fraction of training images held out to track per epoch")
}

final class VisionTrain: Stage {
    let options: VisionTrainOptions
    let skeleton: ClassifierTrainingStage
    var common: ClassifierTrainingOptions { options.common }
    var train: [(image: Image, label: String, file: String)] = []
    var test: [(image: Image, label: String, file: String)] = []

    init(_ o: StageOptions) throws {
        options = try VisionTrainOptions(o)
        skeleton = ClassifierTrainingStage(options.common)
        // When the image size is known before running (after image.normalize or image.resize), a network
        // too large for the memory limit is refused now; otherwise when the first images arrive.
        if let s = common.inputShape, s.count == 3, s.allSatisfy({ $0 > 0 }) {
            do { try checkMemory(inputShape: s, classes: 2) } catch let e as NetworkError {
                throw ConfigError(common.layersPosition, "vision.train: \(e.message)")
            }
        }
    }

    /// Refuses a network whose training would exceed the memory limit, before any weight exists.
    func checkMemory(inputShape: [Int], classes: Int) throws {
        let estimate = try MemoryEstimate.of(common.layers + [.classifierHead(classes: classes)], input: inputShape)
        try estimate.checkTraining(batch: common.loop.batchSize, limit: common.memoryLimit)
    }

    static let spec = StageSpec(
        name: "vision.train",
        summary: "Train a CNN image classifier; evaluate on held-out items; write model, metrics, report",
        consumes: [.image], produces: .none, options: VisionTrainOptions.specs, make: { try VisionTrain($0) })

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let img = item.image else { return }
        guard let label = item.label else {
            try ctx.fail(
                item.file, "vision.train needs labelled images (read them with read.png train:/test: or a manifest)")
            return
        }
        if item.split == .test { test.append((img, label, item.file)) } else { train.append((img, label, item.file)) }
        ctx.countSuccess(item.file)
    }

    func finish(_ ctx: RunContext, emit: Emit) throws {
        let data = try TrainingImages(train, stage: "vision.train")
        do { try checkMemory(inputShape: data.shape, classes: data.classes.count) } catch let e as NetworkError {
            throw StageError("vision.train", e.message)
        }
        let loop = common.loop
        var random = SeededRandom(seed: UInt64(loop.seed))
        let split = data.split(validation: common.validationSplit, random: &random)
        let net = try Network(
            layers: common.layers + [.classifierHead(classes: data.classes.count)], inputShape: data.shape,
            seed: UInt64(loop.seed))
        guard loop.batchSize >= net.minimumTrainingBatch, split.train.labels.count >= net.minimumTrainingBatch else {
            throw StageError(
                "vision.train",
                "batchnorm after a dense layer needs at least \(net.minimumTrainingBatch) examples per batch (batch_size is \(loop.batchSize), \(split.train.labels.count) training images)"
            )
        }
        ctx.progress.info(
            "vision.train: \(split.train.labels.count) training images, \(split.validation.labels.count) validation, \(test.count) test, \(data.classes.count) classes"
        )
        ctx.progress.info(net.summaryTable())

        let fingerprint = skeleton.fingerprint(
            net, inputAndClasses: "\(data.shape)\(data.classes)", data: data.identity,
            settings: ["validation \(common.validationSplit)", options.augmentation.settingsText])
        let settings = [
            ("augmentation", options.augmentation.augment ? "\(options.augmentation)" : "none"),
            ("validation split", "\(common.validationSplit)"),
        ]
        let batches = ImageBatches(images: split.train.x, labels: split.train.labels, augment: augmentation())
        var report = try skeleton.train(
            net, batches: batches, validation: split.validation, throughputName: "images_per_s",
            fingerprint: fingerprint, report: skeleton.newReport(net, settings: settings), random: random, ctx: ctx)
        let accuracy = try evaluateTest(net, data, ctx, &report)
        let description = ModelFile(
            task: "vision.train", layers: net.layers, inputShape: data.shape, labels: data.classes,
            preprocessing: ["input": "image \(data.shape[2])×\(data.shape[1]), \(data.shape[0]) channel(s), values 0…1"]
        )
        try skeleton.finish([net], description: description, report: report, accuracy: accuracy, ctx: ctx)
    }

    func augmentation() -> ImageBatches.Augment? {
        let a = options.augmentation
        guard a.augment else { return nil }
        let rotation = Float(a.rotation), shift = Float(a.shift), scale = Float(a.scaleMin)...Float(a.scaleMax)
        return { img, r in img.randomAffine(rotation: rotation, shift: shift, scale: scale, rng: &r) }
    }

    /// Accuracy on the test items (nil when there are none), with the report's test sections.
    func evaluateTest(_ net: Network, _ data: TrainingImages, _ ctx: RunContext, _ report: inout TrainingReport) throws
        -> Double?
    {
        guard !test.isEmpty else {
            skeleton.noTestItems(&report)
            return nil
        }
        let known = try skeleton.answerable(
            test, label: { $0.label }, file: { $0.file }, classes: data.index,
            problem: { ImagePacker.problem($0.image, shape: data.shape) }, ctx: ctx)
        let x = try ImagePacker.pack(known.map { $0.image }, shape: data.shape)
        let truth = known.map { data.index[$0.label]! }
        let predicted = Inference.classify(net, x, training: false)
        let wrong = zip(known, zip(truth, predicted)).filter { $1.0 != $1.1 }.prefix(48).map { item, tp in
            ReportImage(
                png: (try? PNG.encode(item.image.resized(width: item.image.width * 2, height: item.image.height * 2)))
                    ?? Data(),
                caption: "true \(data.classes[tp.0])\n→ \(data.classes[tp.1])")
        }
        let ev = skeleton.evaluate(
            classes: data.classes, truth: truth, predicted: predicted, unit: "images",
            after: wrong.isEmpty ? [] : [.images(title: "Misclassified examples", Array(wrong))], report: &report,
            ctx: ctx)
        return ev.accuracy
    }
}

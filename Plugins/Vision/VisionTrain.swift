// vision.train: trains a CNN classifier on the image items it receives (split "train"), evaluates on
// the "test" items (never used for training or tuning), and writes the model, metrics.json and
// report.html together. The network, optimizer, epoch loop, checkpoints, batching and report are the
// shared Training module's; this stage gathers images, picks the validation split, and reports.
import Foundation
import Tensor
import NN
import Media
import Pipeline
import Training

final class VisionTrain: Stage {
    let o: StageOptions
    let layers: [LayerSpec]
    let loop: LoopSettings
    let optimizer: OptimizerSettings
    var train: [(image: Image, label: String, file: String)] = []
    var test: [(image: Image, label: String, file: String)] = []

    init(_ o: StageOptions) throws {
        self.o = o
        layers = try o.node("layers").map(LayerListParser.parse) ?? LayerSpec.seedCNN
        loop = LoopSettings(o, model: o.string("model"))
        optimizer = OptimizerSettings(o)
        if o.float("scale_min") > o.float("scale_max") {
            throw ConfigError(o.position, "vision.train: scale_min must not exceed scale_max")
        }
        // When the image size is known before running (after image.normalize or image.resize), a network
        // too large for the memory limit is refused now; otherwise when the first images arrive.
        if let s = o.inputShape, s.count == 3, s.allSatisfy({ $0 > 0 }) {
            do { try checkMemory(inputShape: s, classes: 2) }
            catch let e as NetworkError { throw ConfigError(o.node("layers")?.position ?? o.position, "vision.train: \(e.message)") }
        }
    }

    /// Refuses a network whose training would exceed the memory limit, before any weight exists.
    func checkMemory(inputShape: [Int], classes: Int) throws {
        let estimate = try MemoryEstimate.of(layers + [.classifierHead(classes: classes)], input: inputShape)
        try estimate.checkTraining(batch: loop.batchSize, limit: o.memoryLimit)
    }

    static let spec = StageSpec(
        name: "vision.train", summary: "Train a CNN image classifier; evaluate on held-out items; write model, metrics, report",
        consumes: [.image], produces: .none,
        options: [
            OptionSpec("model", .outputFile, required: true, doc: "where to write the trained model (.safetensors)"),
            OptionSpec("layers", .custom(summary: "layer list", validate: { _ = try LayerListParser.parse($0) }),
                       doc: "network, e.g. [{conv: {filters: 32, size: 3}}, {maxpool: 2}, {dense: 64}] (default: seed CNN); the output layer is added"),
        ] + LoopSettings.options() + OptimizerSettings.options() + [
            OptionSpec("augment", .bool, default: .bool(false), doc: "random affine augmentation of training images"),
            OptionSpec("rotation", .float(0...180), default: .float(10), doc: "augmentation: max rotation in degrees"),
            OptionSpec("shift", .float(0...100), default: .float(2), doc: "augmentation: max shift in pixels"),
            OptionSpec("scale_min", .float(0.1...10), default: .float(0.9), doc: "augmentation: smallest scale"),
            OptionSpec("scale_max", .float(0.1...10), default: .float(1.1), doc: "augmentation: largest scale"),
            OptionSpec("validation_split", .float(0...0.9), default: .float(0), doc: "fraction of training images held out to track per epoch"),
            OptionSpec("metrics", .outputFile, doc: "write metrics.json here"),
            OptionSpec("report", .outputFile, doc: "write report.html here"),
            OptionSpec("min_test_accuracy", .float(0...1), default: .float(0), doc: "fail the run if held-out accuracy is below this"),
        ],
        make: { try VisionTrain($0) })

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let img = item.image else { return }
        guard let label = item.label else {
            try ctx.fail(item.file, "vision.train needs labelled images (read them with read.png train:/test: or a manifest)")
            return
        }
        if item.split == .test { test.append((img, label, item.file)) } else { train.append((img, label, item.file)) }
        ctx.countSuccess(item.file)
    }

    func finish(_ ctx: RunContext, emit: Emit) throws {
        let data = try TrainingImages(train, stage: "vision.train")
        do { try checkMemory(inputShape: data.shape, classes: data.classes.count) }
        catch let e as NetworkError { throw StageError("vision.train", e.message) }
        var random = SeededRandom(seed: UInt64(loop.seed))
        let split = data.split(validation: o.float("validation_split"), random: &random)
        let net = try Network(layers: layers + [.classifierHead(classes: data.classes.count)], inputShape: data.shape, seed: UInt64(loop.seed))
        guard loop.batchSize >= net.minimumTrainingBatch, split.train.labels.count >= net.minimumTrainingBatch else {
            throw StageError("vision.train", "batchnorm after a dense layer needs at least \(net.minimumTrainingBatch) examples per batch (batch_size is \(loop.batchSize), \(split.train.labels.count) training images)")
        }
        ctx.progress.info("vision.train: \(split.train.labels.count) training images, \(split.validation.labels.count) validation, \(test.count) test, \(data.classes.count) classes")
        ctx.progress.info(net.summaryTable())

        let group = ParameterGroup("model", parameters: net.parameters, settings: optimizer)
        let training = TrainingLoop(stage: "vision.train", settings: loop, networks: [("model", net)], groups: [group],
                                    fingerprint: fingerprint(net, data), random: random, report: newReport(net), ctx: ctx)
        try training.resumeIfAsked()
        let trainer = ClassifierTrainer(net: net, group: group, throughputName: "images_per_s")
        let batches = ImageBatches(images: split.train.x, labels: split.train.labels, augment: augmentation())
        try training.run { e in
            let loader = BatchLoader(batches, batchSize: loop.batchSize, seed: training.random.next(), minimumBatch: net.minimumTrainingBatch)
            return try trainer.epoch(e, of: loop.epochs, batches: loader, batchCount: loader.batchCount, validation: split.validation,
                                     ctx: ctx, lastCheckpoint: training.lastCheckpoint)
        }
        var report = training.report
        let accuracy = try evaluateTest(net, data, ctx, &report)
        try writeOutputs(net, data, report, ctx)
        if let acc = accuracy, acc < o.float("min_test_accuracy") {
            throw StageError("vision.train", String(format: "held-out accuracy %.4f is below min_test_accuracy %.4f", acc, o.float("min_test_accuracy")))
        }
    }

    func augmentation() -> ImageBatches.Augment? {
        guard o.bool("augment") else { return nil }
        let rotation = Float(o.float("rotation")), shift = Float(o.float("shift"))
        let scale = Float(o.float("scale_min"))...Float(o.float("scale_max"))
        return { img, r in img.randomAffine(rotation: rotation, shift: shift, scale: scale, rng: &r) }
    }

    /// What a checkpoint must match: the network, the training images, and the settings that steer training.
    func fingerprint(_ net: Network, _ data: TrainingImages) -> TrainingFingerprint {
        let settings = [o.string("optimizer"), "\(optimizer)", "batch \(loop.batchSize)", "seed \(loop.seed)",
                        "validation \(o.float("validation_split"))", "augment \(o.bool("augment")) \(o.float("rotation")) \(o.float("shift")) \(o.float("scale_min")) \(o.float("scale_max"))"]
        return TrainingFingerprint(network: LayerSpec.json(net.layers) + "\(data.shape)\(data.classes)",
                                   data: data.identity, settings: settings.joined(separator: "\n"))
    }

    func newReport(_ net: Network) -> TrainingReport {
        var r = TrainingReport(title: "dlpipe vision.train — \(URL(fileURLWithPath: o.string("model")).lastPathComponent)")
        r.networks = [("model", net.summary)]
        r.settings = [("batch size", "\(loop.batchSize)"), ("seed", "\(loop.seed)")] + optimizer.summary
            + [("augmentation", o.bool("augment") ? "rotation ±\(o.float("rotation"))°, shift ±\(o.float("shift")) px, scale \(o.float("scale_min"))–\(o.float("scale_max"))" : "none"),
               ("validation split", "\(o.float("validation_split"))"), ("threads", "\(Parallel.threads)")]
        return r
    }

    /// Accuracy on the test items (nil when there are none), with the report's test sections.
    func evaluateTest(_ net: Network, _ data: TrainingImages, _ ctx: RunContext, _ report: inout TrainingReport) throws -> Double? {
        guard !test.isEmpty else {
            report.results = [("test_accuracy", "null")]
            return nil
        }
        var known: [(image: Image, label: String, file: String)] = []
        for t in test {
            if data.index[t.label] == nil { try ctx.fail(t.file, "test label '\(t.label)' never occurs in training"); continue }
            if let problem = ImagePacker.problem(t.image, shape: data.shape) { try ctx.fail(t.file, problem); continue }
            known.append(t)
        }
        let x = try ImagePacker.pack(known.map { $0.image }, shape: data.shape)
        let truth = known.map { data.index[$0.label]! }
        let predicted = Inference.classify(net, x, training: false)
        let ev = ClassifierEvaluation(classes: data.classes, truth: truth, predicted: predicted)
        report.results = ev.metricsFields(prefix: "test")
        report.headline = String(format: "Held-out accuracy: %.2f %% on %d examples · training %.1f s · %d epochs",
                                 100 * ev.accuracy, ev.total, report.trainSeconds, report.epochs.count)
        report.sections.append(.confusion(title: "Confusion matrix (held-out)", ev))
        let wrong = zip(known, zip(truth, predicted)).filter { $1.0 != $1.1 }.prefix(48).map { item, tp in
            ReportImage(png: (try? PNG.encode(item.image.resized(width: item.image.width * 2, height: item.image.height * 2))) ?? Data(),
                        caption: "true \(data.classes[tp.0])\n→ \(data.classes[tp.1])")
        }
        if !wrong.isEmpty { report.sections.append(.images(title: "Misclassified examples", Array(wrong))) }
        ctx.progress.info(String(format: "held-out accuracy: %.2f %% (%d images), training %.1f s", 100 * ev.accuracy, ev.total, report.trainSeconds))
        return ev.accuracy
    }

    /// The model, metrics.json and report.html, committed together.
    func writeOutputs(_ net: Network, _ data: TrainingImages, _ report: TrainingReport, _ ctx: RunContext) throws {
        let model = ModelFile(task: "vision.train", layers: net.layers, inputShape: data.shape, labels: data.classes,
                              preprocessing: ["input": "image \(data.shape[2])×\(data.shape[1]), \(data.shape[0]) channel(s), values 0…1"])
        try model.writeTogether(net, to: o.string("model"), report: report, metrics: o.optionalString("metrics"), html: o.optionalString("report"),
                                stage: "vision.train", ctx: ctx)
    }
}

// gan.train: trains a generator and a discriminator on the image items it receives (labels from the
// sub-folder names when conditional), with a sample grid from a fixed noise batch after every epoch;
// writes both networks, metrics.json (both losses per epoch) and report.html (loss curves and the grids
// over time) together. The networks, optimizers, epoch loop, checkpoints and report are the shared
// Training module's; this stage gathers images and runs adversarial steps.
import Foundation
import Tensor
import NN
import Media
import Pipeline
import Training
import FilesAndText

/// gan.train's options, parsed once.
struct GANTrainOptions: Decodable {
    enum CodingKeys: String, CodingKey, OptionKey {
        case model, discriminatorModel = "discriminator_model", noise, conditional
        case classLoss = "class_loss", labelSmoothing = "label_smoothing", update, grids, grid, metrics, report
        case diffAugment = "diff_augment", generatorAverage = "generator_average"
    }

    /// The layer lists' option names (their values are layer lists, parsed by LayerListParser).
    enum LayerKey: String, OptionKey { case generator, discriminator }

    let model: String
    let discriminatorModel: String?
    let noise: Int
    let conditional: Bool
    let classLoss: Double, labelSmoothing: Double
    /// "alternating" or "simultaneous" (GANUpdateRule).
    let update: String
    /// DiffAugment's changes, by name ("translation", "cutout").
    let diffAugment: [String]
    /// Decay of the generator's weight average (0: none; the trained weights are written).
    let generatorAverage: Double
    let grids: String?, grid: String?, metrics: String?, report: String?

    /// Where the discriminator goes: its option, else the model path with "-discriminator".
    var discriminatorPath: String {
        discriminatorModel
            ?? (model.hasSuffix(".safetensors")
                ? String(model.dropLast(12)) + "-discriminator.safetensors" : model + "-discriminator")
    }

    static let optimizerDefaults = OptimizerSettings(kind: .adam, learningRate: 2e-4, beta1: 0.5, schedule: .constant)

    static let specs: [OptionSpec] =
        [
            OptionSpec(
                CodingKeys.model, .outputFile, required: true, doc: "where to write the generator (.safetensors)"),
            OptionSpec(
                CodingKeys.discriminatorModel, .outputFile,
                doc: "where to write the discriminator (default: the model path with '-discriminator')"),
            OptionSpec(
                LayerKey.generator, .custom(summary: "layer list", validate: { _ = try LayerListParser.parse($0) }),
                doc: "generator layers from the noise to the image (default: the DCGAN tutorial's)"),
            OptionSpec(
                LayerKey.discriminator, .custom(summary: "layer list", validate: { _ = try LayerListParser.parse($0) }),
                doc:
                    "discriminator layers from the image to one logit (default: the DCGAN tutorial's); conditional: its last layer, dense: 1, gets one more output per class"
            ),
            OptionSpec(
                CodingKeys.noise, .int(1...4096), default: .int(100),
                doc: "noise values per sample (the generator's input)"),
            OptionSpec(
                CodingKeys.conditional, .bool, default: .bool(false),
                doc: "both networks also see the class (the image's sub-folder name), so gan.sample can ask for one"),
            OptionSpec(
                CodingKeys.classLoss, .float(0...10), default: .float(1),
                doc:
                    "conditional: weight of the class cross-entropy — the discriminator learns to name real images' classes, the generator to have its samples named as asked (0: the class only through the discriminator's projection)"
            ),
            OptionSpec(
                CodingKeys.labelSmoothing, .float(0...0.5), default: .float(0),
                doc: "one-sided: the discriminator's target for real images is 1 − this"),
            OptionSpec(
                CodingKeys.update, .choice(GANUpdateRule.allCases.map(\.rawValue)), default: .string("alternating"),
                doc:
                    "alternating: the generator learns through the discriminator already updated on the batch (PyTorch's DCGAN example); simultaneous: both gradients at the same weights, both networks step after (the TensorFlow DCGAN tutorial)"
            ),
            OptionSpec(
                CodingKeys.diffAugment, .stringList, default: .list([]),
                doc:
                    "differentiable augmentation: changes every image, real and generated, gets before the discriminator sees it — translation (up to an eighth of the side), cutout (a square of half the side) — so it cannot learn a few thousand images by heart"
            ),
            OptionSpec(
                CodingKeys.generatorAverage, .float(0...0.99999), default: .float(0),
                doc:
                    "keep an exponential moving average of the generator's weights with this decay (e.g. 0.999) and sample, grid and write it instead of the last weights (0 = off)"
            ),
        ]
        + LoopSettings.options(defaults: LoopSettings(epochs: 30, batchSize: 64))
        + OptimizerSettings.options(prefix: "generator_", defaults: optimizerDefaults)
        + OptimizerSettings.options(prefix: "discriminator_", defaults: optimizerDefaults) + [
            OptionSpec(
                CodingKeys.grids, .outputFolder, doc: "also write each epoch's sample grid here as epoch-NNN.png"),
            OptionSpec(CodingKeys.grid, .outputFile, doc: "write the last epoch's sample grid here (.png)"),
            OptionSpec(CodingKeys.metrics, .outputFile, doc: "write metrics.json here"),
            OptionSpec(CodingKeys.report, .outputFile, doc: "write report.html here"),
        ]
}

final class GANTrain: Stage {
    let options: GANTrainOptions
    let generatorLayers: [LayerSpec], discriminatorLayers: [LayerSpec]
    let loop: LoopSettings
    let generatorSettings: OptimizerSettings, discriminatorSettings: OptimizerSettings
    let augment: DiffAugment
    var items: [(image: Image, label: String, file: String)] = []

    init(_ o: StageOptions) throws {
        options = try o.decode(GANTrainOptions.self)
        generatorLayers = try o.node(GANTrainOptions.LayerKey.generator).map(LayerListParser.parse) ?? DCGAN.generator
        discriminatorLayers =
            try o.node(GANTrainOptions.LayerKey.discriminator).map(LayerListParser.parse) ?? DCGAN.discriminator
        loop = LoopSettings(o, model: options.model)
        generatorSettings = OptimizerSettings(o, prefix: "generator_")
        discriminatorSettings = OptimizerSettings(o, prefix: "discriminator_")
        do { augment = try DiffAugment(options.diffAugment) } catch let e as StageError {
            throw ConfigError(o.position(of: GANTrainOptions.CodingKeys.diffAugment), e.message)
        }
        if let s = o.inputShape, s.count == 3, s.allSatisfy({ $0 > 0 }) {
            // The shapes are known before running (after image.normalize): a mismatch is a config error now.
            do {
                _ = try GANShape(noise: options.noise, image: s, classes: options.conditional ? ["a", "b"] : [])
                    .build(generator: generatorLayers, discriminator: discriminatorLayers, seed: 0)
            } catch let e as NetworkError {
                throw ConfigError(o.position(of: GANTrainOptions.LayerKey.generator), "gan.train: \(e.message)")
            }
        }
    }

    static let spec = StageSpec(
        name: "gan.train",
        summary:
            "Train a DCGAN (generator and discriminator) on images; sample grids per epoch; write both models, metrics, report",
        consumes: [.image], produces: .none, options: GANTrainOptions.specs, make: { try GANTrain($0) })

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let img = item.image else { return }
        if options.conditional && item.label == nil {
            try ctx.fail(
                item.file,
                "a conditional GAN needs labelled images (read them with read.png train: — one sub-folder per class)")
            return
        }
        items.append((img, item.label ?? "", item.file))
        ctx.countSuccess(item.file)
    }

    func finish(_ ctx: RunContext, emit: Emit) throws {
        let conditional = options.conditional
        let data = try TrainingImages(items, stage: "gan.train", minimumClasses: conditional ? 2 : 0)
        let shape = GANShape(noise: options.noise, image: data.shape, classes: conditional ? data.classes : [])
        let (g, d): (Network, Network)
        do {
            (g, d) = try shape.build(
                generator: generatorLayers, discriminator: discriminatorLayers, seed: UInt64(loop.seed))
        } catch let e as NetworkError { throw StageError("gan.train", e.message) }
        guard data.images.count >= loop.batchSize, loop.batchSize >= max(g.minimumTrainingBatch, d.minimumTrainingBatch)
        else {
            throw StageError(
                "gan.train",
                "\(data.images.count) images for batches of \(loop.batchSize): need at least one full batch (and batch_size ≥ 2 with batchnorm)"
            )
        }
        ctx.progress.info(
            "gan.train: \(data.images.count) images \(data.shape.map(String.init).joined(separator: "×"))\(conditional ? ", \(data.classes.count) classes" : "")"
        )
        ctx.progress.info("generator:\n" + g.summaryTable() + "\ndiscriminator:\n" + d.summaryTable())

        let gGroup = ParameterGroup("generator", parameters: g.parameters, settings: generatorSettings)
        let dGroup = ParameterGroup("discriminator", parameters: d.parameters, settings: discriminatorSettings)
        // The average is a network of its own, so checkpoints carry it; it is what is sampled and written.
        let average =
            options.generatorAverage > 0 ? try WeightAverage(of: g, decay: Float(options.generatorAverage)) : nil
        let sampled = average?.average ?? g
        let training = TrainingLoop(
            stage: "gan.train", settings: loop,
            networks: [("generator", g), ("discriminator", d)]
                + (average.map { [("generator_average", $0.average)] } ?? []),
            groups: [gGroup, dGroup],
            fingerprint: fingerprint(g, d, data), random: SeededRandom(seed: UInt64(loop.seed) &+ 7),
            report: newReport(g, d), ctx: ctx)
        try training.resumeIfAsked()
        let step = AdversarialStep(
            shape: shape, generator: g, discriminator: d, generatorGroup: gGroup, discriminatorGroup: dGroup,
            head: DiscriminatorHead(classes: shape.classes.count, classWeight: Float(options.classLoss)),
            realTarget: Float(1 - options.labelSmoothing), rule: GANUpdateRule(rawValue: options.update)!,
            augment: augment.isActive ? augment : nil, average: average)
        let real = try ImagePacker.pack(data.images, shape: data.shape) * 2 - 1
        let labels = data.labels.map { data.index[$0]! }
        let grids = SampleGrid(shape: shape, seed: UInt64(loop.seed))
        var gridImages: [ReportImage] = []
        try training.run { e in
            let metrics = try self.epoch(
                e, step: step, real: real, labels: conditional ? labels : nil, random: &training.random, ctx: ctx,
                lastCheckpoint: training.lastCheckpoint)
            recalibrate(average, shape: shape, epoch: e)
            let grid = grids.render(sampled)
            try writeGrid(grid, epoch: e + 1)
            gridImages.append(ReportImage(png: (try? PNG.encode(grid)) ?? Data(), caption: "epoch \(e + 1)"))
            return metrics
        }
        var report = training.report
        report.sections.append(.images(title: "Samples from one fixed noise batch, epoch by epoch", gridImages))
        report.headline = String(
            format: "%d images · %d epochs · training %.1f s", data.images.count, report.epochs.count,
            report.trainSeconds)
        try writeOutputs(sampled, d, shape, report, lastGrid: grids.render(sampled), ctx: ctx)
    }

    /// The weight average's batch-norm statistics, measured on its own samples from a stream of their own (the
    /// training stream is untouched, so a resumed run is the same).
    func recalibrate(_ average: WeightAverage?, shape: GANShape, epoch: Int) {
        guard let average else { return }
        var random = SeededRandom(seed: UInt64(loop.seed) &+ 1000 &+ UInt64(epoch))
        let n = loop.batchSize
        average.recalibrate(batches: 50) {
            let labels: [Int]? = shape.conditional ? (0..<n).map { _ in random.nextInt(shape.classes.count) } : nil
            return shape.generatorInput(count: n, classes: labels, random: &random)
        }
    }

    /// One pass over the images in random order, in full batches; returns the epoch's mean losses.
    func epoch(
        _ e: Int, step: AdversarialStep, real: Tensor, labels: [Int]?, random: inout SeededRandom, ctx: RunContext,
        lastCheckpoint: @autoclosure () -> String?
    ) throws -> [Metric] {
        let n = real.shape[0], b = loop.batchSize, per = real.count / n
        var order = Array(0..<n)
        random.shuffle(&order)
        let batches = n / b
        let task = ctx.progress.task("epoch \(e + 1)/\(loop.epochs)", total: batches, unit: "batches")
        var sum = AdversarialStep.Losses(discriminator: 0, generator: 0, realScore: 0, fakeScore: 0)
        let t0 = Date()
        let x = Tensor(uninitialized: [b] + Array(real.shape.dropFirst()))
        for k in 0..<batches {
            try ctx.checkCancelled()
            let idx = order[(k * b)..<((k + 1) * b)]
            for (j, i) in idx.enumerated() { (x.data + j * per).update(from: real.data + i * per, count: per) }
            let l = step.run(real: x, labels: labels.map { ls in idx.map { ls[$0] } }, random: &random)
            let hint = "lower generator_learning_rate and discriminator_learning_rate"
            try FiniteLossGuard.check(
                l.discriminator, name: "discriminator loss", epoch: e, step: k, lastCheckpoint: lastCheckpoint(),
                hint: hint)
            try FiniteLossGuard.check(
                l.generator, name: "generator loss", epoch: e, step: k, lastCheckpoint: lastCheckpoint(), hint: hint)
            sum.discriminator += l.discriminator
            sum.generator += l.generator
            sum.realScore += l.realScore
            sum.fakeScore += l.fakeScore
            task.update(
                k + 1,
                [
                    ("d_loss", String(format: "%.3f", sum.discriminator / Float(k + 1))),
                    ("g_loss", String(format: "%.3f", sum.generator / Float(k + 1))),
                ])
        }
        task.finish(batches)
        let m = Float(max(batches, 1))
        return [
            Metric("d_loss", Double(sum.discriminator / m)), Metric("g_loss", Double(sum.generator / m)),
            Metric("d_real", Double(sum.realScore / m)), Metric("d_fake", Double(sum.fakeScore / m)),
            Metric("images_per_s", Double(batches * b) / max(Date().timeIntervalSince(t0), 1e-9)),
        ]
    }

    func writeGrid(_ grid: Image, epoch: Int) throws {
        guard let folder = options.grids else { return }
        let path = folder + String(format: "/epoch-%03d.png", epoch)
        do {
            try makeFolder(folder)
            try PNG.write(grid, to: path)
        } catch { throw writeFailure("gan.train", path, error) }
    }

    /// What a checkpoint must match: both networks, the images, and the settings that steer training.
    func fingerprint(_ g: Network, _ d: Network, _ data: TrainingImages) -> TrainingFingerprint {
        let settings =
            [
                "\(generatorSettings)", "\(discriminatorSettings)", "batch \(loop.batchSize)",
                "seed \(loop.seed)",
                "noise \(options.noise)", "conditional \(options.conditional)", "class loss \(options.classLoss)",
                "smoothing \(options.labelSmoothing)",
            ] + (options.update == "alternating" ? [] : ["update \(options.update)"])
            + (augment.isActive ? ["diff_augment \(options.diffAugment.sorted())"] : [])
            + (options.generatorAverage > 0 ? ["generator average \(options.generatorAverage)"] : [])
        return TrainingFingerprint(
            network: LayerSpec.json(g.layers) + LayerSpec.json(d.layers) + "\(data.shape)",
            data: data.identity, settings: settings.joined(separator: "\n"))
    }

    func newReport(_ g: Network, _ d: Network) -> TrainingReport {
        var r = TrainingReport(title: "dlpipe gan.train — \(URL(fileURLWithPath: options.model).lastPathComponent)")
        r.networks = [("generator", g.summary), ("discriminator", d.summary)]
        let augmented = augment.isActive ? options.diffAugment.joined(separator: ", ") : "none"
        let written = options.generatorAverage > 0 ? "moving average, decay \(options.generatorAverage)" : "the last"
        let own: [(String, String)] = [
            ("batch size", "\(loop.batchSize)"), ("seed", "\(loop.seed)"), ("noise", "\(options.noise)"),
            ("conditional", "\(options.conditional)"), ("class loss", "\(options.classLoss)"),
            ("label smoothing", "\(options.labelSmoothing)"), ("update", options.update),
            ("diff_augment", augmented), ("generator weights written", written),
        ]
        r.settings =
            own
            + generatorSettings.summary.map { ("generator \($0.0)", $0.1) }
            + discriminatorSettings.summary.map { ("discriminator \($0.0)", $0.1) }
            + [("threads", "\(Parallel.threads)")]
        return r
    }

    /// Generator, discriminator, metrics, report and last grid, committed together.
    func writeOutputs(
        _ g: Network, _ d: Network, _ shape: GANShape, _ report: TrainingReport, lastGrid: Image, ctx: RunContext
    ) throws {
        // gan.sample and gan.evaluate read "noise" and "classes" back (GeneratorFile.swift); the rest is for people.
        let preprocessing = [
            "input": "noise \(shape.noise) standard normals\(shape.conditional ? " then a one-hot class" : "")",
            "output": "image \(shape.image[2])×\(shape.image[1]), \(shape.image[0]) channel(s), values −1…1 (tanh)",
            "noise": "\(shape.noise)", "classes": GANShape.classesJSON(shape.classes),
        ]
        let gModel = ModelFile(
            task: "gan.train", layers: g.layers, inputShape: shape.generatorInput, labels: [],
            preprocessing: preprocessing)
        let dModel = ModelFile(
            task: "gan.train.discriminator", layers: d.layers, inputShape: shape.discriminatorInput, labels: [])
        let grid = try options.grid.map { (path: $0, data: try PNG.encode(lastGrid)) }
        try ModelFile.writeTogether(
            [.init(g, gModel, to: options.model), .init(d, dModel, to: options.discriminatorPath)],
            extra: grid.map { [$0] } ?? [], report: report, metrics: options.metrics, html: options.report,
            stage: "gan.train", ctx: ctx)
    }
}

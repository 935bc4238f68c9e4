// gan.evaluate: judges a generator with a digit classifier (from vision.train) instead of by eye. It
// draws `count` samples and reports the classifier's mean max-probability, the class histogram, and
// the Fréchet distance between the classifier's penultimate features of the samples and of the real
// held-out images it receives (the images of the test split, or all images without labels). Real
// training images, when they arrive too, give the floor: their own distance to the held-out ones.
// For a conditional generator, how often the classifier names the class that was asked for. Instead of
// a generator it can judge a folder of sample PNGs (another framework's, for a side-by-side figure). A
// second judge of its own (IndependentJudge.swift), trained on the labelled real training images it
// receives, gives its figures beside the classifier's.
import Foundation
import Tensor
import Media
import Pipeline
import Training
import FilesAndText

/// gan.evaluate's options, parsed once.
struct GANEvaluateOptions: Decodable {
    enum CodingKeys: String, CodingKey, OptionKey {
        case generator, samples, classifier, count, seed, metrics, judgeEpochs = "judge_epochs", truncation
    }

    /// What is judged: a generator's samples, or a folder of PNGs.
    enum Judged { case generator(String), samples(folder: String) }

    let generator: String?, samples: String?
    let classifier: String
    let count: Int, seed: Int
    let metrics: String?
    /// Epochs of the second judge's training (0: no second judge).
    let judgeEpochs: Int
    /// Noise values beyond ±truncation are drawn again (0: none), as gan.sample's.
    let truncation: Double

    /// Exactly one of `generator` and `samples`; nil when both or neither are given.
    var judged: Judged? {
        switch (generator, samples) {
        case (let g?, nil): return .generator(g)
        case (nil, let folder?): return .samples(folder: folder)
        default: return nil
        }
    }

    static let specs: [OptionSpec] = [
        OptionSpec(CodingKeys.generator, .path, doc: "generator written by gan.train"),
        OptionSpec(
            CodingKeys.samples, .path, doc: "instead of a generator: a folder of sample PNGs to judge (all of them)"),
        OptionSpec(
            CodingKeys.classifier, .path, required: true,
            doc: "image classifier written by vision.train (its penultimate layer gives the features)"),
        OptionSpec(CodingKeys.count, .int(2...100_000), default: .int(1000), doc: "how many samples to draw and judge"),
        OptionSpec(CodingKeys.seed, .int(0...Int(Int32.max)), default: .int(1), doc: "noise seed"),
        OptionSpec(CodingKeys.metrics, .outputFile, doc: "write the figures here as JSON"),
        OptionSpec(
            CodingKeys.judgeEpochs, .int(0...100), default: .int(8),
            doc:
                "also train a second judge of another architecture and seed on the labelled real training images received, for this many epochs, and report its figures too (0 = only the classifier)"
        ),
        GANShape.truncationOption(CodingKeys.truncation),
    ]
}

final class GANEvaluate: Stage {
    let options: GANEvaluateOptions
    let judged: GANEvaluateOptions.Judged
    let generator: Network?, shape: GANShape
    /// PNGs to judge instead of a generator's samples.
    let sampleFiles: [String]
    let classifier: Network, classes: [String]
    var heldOut: [Image] = [], training: [Image] = []
    /// The labels of the real images (nil where an image has none).
    var heldOutLabels: [String?] = [], trainingLabels: [String?] = []

    init(_ o: StageOptions) throws {
        options = try o.decode(GANEvaluateOptions.self)
        guard let judged = options.judged else {
            throw ConfigError(
                o.position,
                "gan.evaluate needs either 'generator' (a gan.train model) or 'samples' (a folder of PNGs), not both")
        }
        self.judged = judged
        let model: ModelFile
        (classifier, model) = try ModelFile.load(options.classifier, for: "gan.evaluate", trainer: "vision.train")
        switch judged {
        case .generator(let g):
            (generator, shape) = try GeneratorFile.load(g, for: "gan.evaluate")
            sampleFiles = []
        case .samples(let folder):
            generator = nil
            shape = GANShape(noise: 0, image: model.inputShape, classes: [])
            do { sampleFiles = try FileList.files(folder, extensions: ["png"]) } catch {
                throw StageError("gan.evaluate", "\(error)")
            }
            guard sampleFiles.count >= 2 else {
                throw StageError("gan.evaluate", "\(folder): needs at least 2 sample PNGs, found \(sampleFiles.count)")
            }
        }
        guard !model.labels.isEmpty, model.inputShape == shape.image else {
            throw StageError(
                "gan.evaluate",
                "\(options.classifier): needs an image classifier of \(shape.image) images (it takes \(model.inputShape)\(model.labels.isEmpty ? " and has no classes" : ""))"
            )
        }
        classes = model.labels
        if shape.conditional, let missing = shape.classes.first(where: { !classes.contains($0) }) {
            throw StageError(
                "gan.evaluate",
                "the generator's class '\(missing)' is not one of the classifier's (\(classes.joined(separator: ", ")))"
            )
        }
    }

    static let spec = StageSpec(
        name: "gan.evaluate",
        summary:
            "Judge a gan.train generator with a vision.train classifier: confidence, class histogram, Fréchet distance to real held-out images",
        consumes: [.image], produces: .none, options: GANEvaluateOptions.specs,
        make: { try GANEvaluate($0) })

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let img = item.image else { return }
        if let problem = ImagePacker.problem(img, shape: shape.image) {
            try ctx.fail(item.file, problem)
            return
        }
        if item.split == .train {
            training.append(img)
            trainingLabels.append(item.label)
        } else {
            heldOut.append(img)
            heldOutLabels.append(item.label)
        }
        ctx.countSuccess(item.file)
    }

    func finish(_ ctx: RunContext, emit: Emit) throws {
        guard heldOut.count >= 2 else {
            throw StageError(
                "gan.evaluate",
                "needs real held-out images to compare with (read.png test: or path:), got \(heldOut.count)")
        }
        let count = generator == nil ? sampleFiles.count : options.count
        var random = SeededRandom(seed: UInt64(options.seed))
        let asked: [Int]? = shape.conditional ? (0..<count).map { $0 % shape.classes.count } : nil
        var samples: [Image] = []
        if let generator {
            samples = try GeneratedImages.sample(
                generator, shape: shape, count: count, labels: asked, random: &random, truncation: options.truncation,
                checkCancelled: ctx.checkCancelled
            ).images
        } else {
            for f in sampleFiles {
                let img: Image
                do { img = try PNG.read(f, as: shape.image[0] == 3 ? .rgb : .gray) } catch {
                    throw StageError("gan.evaluate", "\(error)")
                }
                if let problem = ImagePacker.problem(img, shape: shape.image) {
                    throw StageError("gan.evaluate", "\(f): \(problem)")
                }
                samples.append(img)
            }
        }
        let x = try ImagePacker.pack(samples, shape: shape.image)
        let judged = judge(x, by: classifier)
        let second = try secondJudge(ctx).map { ($0, judge(x, by: $0.network)) }
        let fakeFeatures = features(x), realFeatures = features(try ImagePacker.pack(heldOut, shape: shape.image))
        let dim = realFeatures.count / heldOut.count
        let fid = FrechetDistance.between(fakeFeatures, realFeatures, dim: dim)
        var floor: Double?
        if training.count >= 2 {
            // A random `count` of them (readers deliver them class by class, so a prefix would be a few classes).
            var order = Array(training.indices)
            var r = SeededRandom(seed: UInt64(options.seed) &+ 11)
            r.shuffle(&order)
            let reference = order.prefix(count).map { training[$0] }
            floor = FrechetDistance.between(
                features(try ImagePacker.pack(reference, shape: shape.image)), realFeatures, dim: dim)
        }
        var agreement: Double?
        if let asked {
            agreement =
                Double(zip(asked, judged.labels).filter { shape.classes[$0] == classes[$1] }.count) / Double(count)
        }
        try report(judged, second: second, fid: fid, floor: floor, agreement: agreement, ctx: ctx)
    }

    /// The second judge, trained on the labelled real training images of the classifier's classes; nil
    /// when judge_epochs is 0 or fewer than two classes of them arrived.
    func secondJudge(_ ctx: RunContext) throws -> IndependentJudge? {
        guard options.judgeEpochs > 0 else { return nil }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        func labelled(_ images: [Image], _ labels: [String?]) -> (images: [Image], labels: [Int]) {
            let kept = zip(images, labels).compactMap { img, l in l.flatMap { index[$0] }.map { (img, $0) } }
            return (kept.map { $0.0 }, kept.map { $0.1 })
        }
        let train = labelled(training, trainingLabels), test = labelled(heldOut, heldOutLabels)
        guard Set(train.labels).count >= 2 else {
            ctx.progress.info(
                "gan.evaluate: no labelled real training images of the classifier's classes; one judge only")
            return nil
        }
        ctx.progress.info("gan.evaluate: training the second judge on \(train.images.count) real images")
        return try IndependentJudge(
            images: try ImagePacker.pack(train.images, shape: shape.image), labels: train.labels,
            classes: classes.count,
            heldOut: test.labels.count >= 2
                ? (try ImagePacker.pack(test.images, shape: shape.image), test.labels) : nil,
            epochs: options.judgeEpochs, seed: options.seed &+ 101, ctx: ctx)
    }

    struct Judgement {
        var labels: [Int]
        var meanMaxProbability: Double
        var histogram: [Int]
    }

    /// A judge's most likely class for each sample, and its mean probability.
    func judge(_ x: Tensor, by net: Network) -> Judgement {
        let logits = Autograd.noGrad { Inference.run(net, x) }
        let k = classes.count, n = x.shape[0]
        var labels: [Int] = [], total = 0.0, histogram = [Int](repeating: 0, count: k)
        for i in 0..<n {
            let row = Array(UnsafeBufferPointer(start: logits.data + i * k, count: k))
            let m = row.max()!, best = row.firstIndex(of: m)!
            let sum = row.reduce(0.0) { $0 + Foundation.exp(Double($1 - m)) }
            total += 1 / sum
            labels.append(best)
            histogram[best] += 1
        }
        return Judgement(labels: labels, meanMaxProbability: total / Double(n), histogram: histogram)
    }

    /// The classifier's penultimate features, in evaluation mode, 256 images at a time.
    func features(_ x: Tensor) -> [Float] {
        classifier.eval()
        let n = x.shape[0], per = x.count / max(n, 1)
        var out: [Float] = []
        var i = 0
        while i < n {
            let b = min(256, n - i)
            let part = Tensor(
                Array(UnsafeBufferPointer(start: x.data + i * per, count: b * per)),
                shape: [b] + Array(x.shape.dropFirst()))
            out += Autograd.noGrad { classifier.penultimate(part) }.scalars
            i += b
        }
        return out
    }

    /// A judgement's class fractions as a JSON object.
    func fractionsJSON(_ j: Judgement) -> String {
        let n = Double(j.labels.count)
        return "{"
            + zip(classes, j.histogram).map { "\(jsonQuoted($0)):\(jsonNumber(Double($1) / n, format: "%.4f"))" }
            .joined(separator: ",") + "}"
    }

    func report(
        _ j: Judgement, second: (judge: IndependentJudge, judgement: Judgement)?, fid: Double, floor: Double?,
        agreement: Double?, ctx: RunContext
    ) throws {
        let n = Double(j.labels.count)
        var fields = [
            "\"samples\":\(j.labels.count)",
            "\"mean_max_probability\":\(jsonNumber(j.meanMaxProbability, format: "%.4f"))",
            "\"class_fractions\":\(fractionsJSON(j))", "\"frechet_distance\":\(jsonNumber(fid, format: "%.3f"))",
            "\"real_held_out\":\(heldOut.count)",
        ]
        if let floor { fields.append("\"frechet_distance_real_training\":\(jsonNumber(floor, format: "%.3f"))") }
        if let agreement { fields.append("\"conditional_agreement\":\(jsonNumber(agreement, format: "%.4f"))") }
        switch judged {
        case .generator(let g): fields.append("\"generator\":\(jsonQuoted(g))")
        case .samples(let folder): fields.append("\"samples_folder\":\(jsonQuoted(folder))")
        }
        fields.append("\"classifier\":\(jsonQuoted(options.classifier))")
        if let second {
            let accuracy = second.judge.heldOutAccuracy.map { jsonNumber($0, format: "%.4f") } ?? "null"
            fields.append(
                "\"second_judge\":{\"layers\":\(LayerSpec.json(second.judge.network.layers)),\"held_out_accuracy\":\(accuracy),"
                    + "\"mean_max_probability\":\(jsonNumber(second.judgement.meanMaxProbability, format: "%.4f")),"
                    + "\"class_fractions\":\(fractionsJSON(second.judgement))}")
        }
        let json = "{" + fields.joined(separator: ",") + "}\n"
        if let path = options.metrics {
            do {
                try makeParentFolder(path)
                try writeFileAtomically(Data(json.utf8), to: path)
            } catch { throw writeFailure("gan.evaluate", path, error) }
        }
        let fractions = zip(classes, j.histogram).map { "\($0) \(String(format: "%.1f", 100 * Double($1) / n))%" }
            .joined(separator: ", ")
        ctx.progress.info(
            String(
                format: "gan.evaluate: %d samples, mean max-probability %.3f, Fréchet distance %.2f", j.labels.count,
                j.meanMaxProbability, fid)
                + (floor.map { String(format: " (real training digits: %.2f)", $0) } ?? "")
                + (agreement.map { String(format: ", classifier agrees with the asked class on %.1f %%", 100 * $0) }
                    ?? ""))
        ctx.progress.info("gan.evaluate: classes: \(fractions)")
        if let second {
            let shares = second.judgement.histogram.map { Double($0) / n }
            ctx.progress.info(
                String(
                    format:
                        "gan.evaluate: second judge (held-out accuracy %@): mean max-probability %.3f, classes %.1f–%.1f %%",
                    second.judge.heldOutAccuracy.map { String(format: "%.1f %%", 100 * $0) } ?? "unknown",
                    second.judgement.meanMaxProbability, 100 * shares.min()!, 100 * shares.max()!))
        }
    }
}

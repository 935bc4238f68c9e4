// The Generative plugin at a small scale: a tiny GAN moves toward a toy distribution; gan.train,
// gan.sample and gan.evaluate through pipelines on the fixture digits; reproducible samples; the
// conditional option; and what is refused before any work.
import XCTest
import TestSupport
import Tensor
import NN
import Pipeline
import Training
import Vision
@testable import Generative

let fixtureDigits = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "../VisionTests/Fixtures/digits"
).standardized.path

let registry: StageRegistry = {
    let r = StageRegistry()
    registerBuiltinStages(r)
    registerVisionStages(r)
    registerGenerativeStages(r)
    return r
}()

final class GANTests: ScratchFolderTestCase {
    /// Real "images" are 1×4×4 with a bright left half and a dark right half (plus a little noise). After
    /// training, the generator's samples are much closer to that than at the start.
    func testTinyGANMovesTowardAToyDistribution() throws {
        let (before, after) = try trainToyGAN(classes: [])
        print("toy GAN: mean |sample − target| per pixel \(before[0][0]) → \(after[0][0])")
        XCTAssertGreaterThan(before[0][0], 0.4)
        XCTAssertLessThan(after[0][0], 0.2)
        XCTAssertLessThan(after[0][0], before[0][0] / 3)
    }

    /// Two classes with mirrored toy images (class b: bright right half). Through the discriminator's
    /// projection and class outputs the generator learns to draw the class it is asked for: each class's
    /// samples end near their own image and far from the other's.
    func testConditionalToyGANDrawsTheClassAskedFor() throws {
        let (_, after) = try trainToyGAN(classes: ["a", "b"])
        print("conditional toy GAN: mean |sample − target| per pixel, asked × target: \(after)")
        for c in 0..<2 {
            XCTAssertLessThan(after[c][c], 0.25, "class \(c) samples near their own image")
            XCTAssertGreaterThan(after[c][1 - c], 1.2, "class \(c) samples far from the other class's image")
        }
    }

    /// Trains a tiny GAN on toy images (one per class; one image when unconditional). Returns, before and
    /// after training, the mean |sample − target| per pixel for [asked class][target class].
    func trainToyGAN(classes: [String]) throws -> (before: [[Float]], after: [[Float]]) {
        let shape = GANShape(noise: 8, image: [1, 4, 4], classes: classes)
        let (g, d) = try shape.build(
            generator: [
                .dense(units: 32, activation: ActivationSpec(.leakyReLU, slope: 0.2), bias: true),
                .dense(units: 16, activation: ActivationSpec(.tanh), bias: true), .reshape([1, 4, 4]),
            ],
            discriminator: [
                .flatten, .dense(units: 32, activation: ActivationSpec(.leakyReLU, slope: 0.2), bias: true),
                .dense(units: 1, activation: .none, bias: true),
            ], seed: 3)
        var settings = OptimizerSettings()
        settings.learningRate = 2e-3
        settings.beta1 = 0.5
        let step = AdversarialStep(
            shape: shape, generator: g, discriminator: d,
            generatorGroup: ParameterGroup("g", parameters: g.parameters, settings: settings),
            discriminatorGroup: ParameterGroup("d", parameters: d.parameters, settings: settings),
            head: DiscriminatorHead(classes: classes.count, classWeight: 1), realTarget: 1)
        var random = SeededRandom(seed: 9)
        let kinds = max(classes.count, 1)
        let targets: [[Float]] = (0..<kinds).map { c in (0..<16).map { ($0 % 4 < 2) == (c == 0) ? 0.8 : -0.8 } }
        func distances() -> [[Float]] {
            g.eval()
            defer { g.train() }
            return (0..<kinds).map { asked in
                let labels: [Int]? = classes.isEmpty ? nil : Array(repeating: asked, count: 256)
                let out = Autograd.noGrad { g(shape.generatorInput(count: 256, classes: labels, random: &random)) }
                var mean = [Float](repeating: 0, count: 16)
                for i in 0..<256 { for j in 0..<16 { mean[j] += out.data[i * 16 + j] / 256 } }
                return targets.map { t in zip(mean, t).map { abs($0 - $1) }.reduce(0, +) / 16 }
            }
        }
        let before = distances()
        g.train()
        d.train()
        for _ in 0..<400 {
            let labels = (0..<32).map { _ in random.nextInt(kinds) }
            var v = [Float](repeating: 0, count: 32 * 16)
            for i in 0..<32 { for j in 0..<16 { v[i * 16 + j] = targets[labels[i]][j] + 0.05 * random.nextNormal() } }
            let l = step.run(
                real: Tensor(v, shape: [32, 1, 4, 4]), labels: classes.isEmpty ? nil : labels, random: &random)
            XCTAssertTrue(l.discriminator.isFinite && l.generator.isFinite)
        }
        return (before, distances())
    }

    /// A small generator (and a small digit classifier) trained on the fixture digits.
    func trainSmallModels(conditional: Bool = false, extra: String = "") throws {
        let small = tinyDCGANLayers
        _ = try runPipeline(
            """
            stages:
              - read.png: {train: \(fixtureDigits)/train}
              - image.normalize:
              - gan.train:
                  model: out/g.safetensors
                  noise: 16
                  conditional: \(conditional)
                  epochs: 2
                  batch_size: 16
            \(extra)\(small)
                  grids: out/grids
                  grid: out/grid.png
                  metrics: out/metrics.json
                  report: out/report.html
            """, name: "gan.conf", registry: registry)
    }

    /// The simultaneous rule takes the generator's gradient at the discriminator's weights before its update:
    /// after one step the discriminator equals the alternating rule's, and the generator equals the
    /// alternating rule's with a discriminator that does not move — and differs from the alternating one's.
    func testSimultaneousUpdateTakesBothGradientsAtTheSameWeights() throws {
        func step(_ rule: GANUpdateRule, discriminatorRate: Double) throws -> (g: [[Float]], d: [[Float]]) {
            let shape = GANShape(noise: 8, image: [1, 4, 4], classes: [])
            let (g, d) = try shape.build(
                generator: [
                    .dense(units: 16, activation: ActivationSpec(.leakyReLU, slope: 0.2), bias: true),
                    .dense(units: 16, activation: ActivationSpec(.tanh), bias: true), .reshape([1, 4, 4]),
                ],
                discriminator: [
                    .flatten, .dense(units: 16, activation: ActivationSpec(.leakyReLU, slope: 0.2), bias: true),
                    .dense(units: 1, activation: .none, bias: true),
                ], seed: 3)
            let gSettings = OptimizerSettings(learningRate: 0.01, beta1: 0.5, schedule: .constant)
            var dSettings = gSettings
            dSettings.learningRate = discriminatorRate
            let adversarial = AdversarialStep(
                shape: shape, generator: g, discriminator: d,
                generatorGroup: ParameterGroup("g", parameters: g.parameters, settings: gSettings),
                discriminatorGroup: ParameterGroup("d", parameters: d.parameters, settings: dSettings),
                head: .unconditional, realTarget: 1, rule: rule)
            var random = SeededRandom(seed: 5)
            _ = adversarial.run(
                real: Tensor.uniform([8, 1, 4, 4], low: -1, high: 1, seed: 6), labels: nil, random: &random)
            return (g.parameters.map(\.scalars), d.parameters.map(\.scalars))
        }
        let simultaneous = try step(.simultaneous, discriminatorRate: 0.01)
        let alternating = try step(.alternating, discriminatorRate: 0.01)
        let frozen = try step(.alternating, discriminatorRate: 1e-7)
        XCTAssertEqual(simultaneous.d, alternating.d, "the discriminator's update does not depend on the rule")
        XCTAssertNotEqual(simultaneous.g, alternating.g, "the alternating generator sees the updated discriminator")
        for (a, b) in zip(simultaneous.g.joined(), frozen.g.joined()) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    /// The generator's moving average after one step is decay·before + (1 − decay)·after, and DiffAugment's
    /// changes reach the discriminator: the same step with them moves it differently.
    func testGeneratorAverageAndDiffAugmentInOneStep() throws {
        func step(augment: [String], decay: Float) throws -> (
            g: [[Float]], average: [[Float]], d: [[Float]], before: [[Float]]
        ) {
            let shape = GANShape(noise: 8, image: [1, 8, 8], classes: [])
            let (g, d) = try shape.build(
                generator: [.dense(units: 64, activation: ActivationSpec(.tanh), bias: true), .reshape([1, 8, 8])],
                discriminator: [.flatten, .dense(units: 1, activation: .none, bias: true)], seed: 3)
            let settings = OptimizerSettings(learningRate: 0.01, beta1: 0.5, schedule: .constant)
            let before = g.parameters.map(\.scalars)
            let average = try WeightAverage(of: g, decay: decay)
            let adversarial = AdversarialStep(
                shape: shape, generator: g, discriminator: d,
                generatorGroup: ParameterGroup("g", parameters: g.parameters, settings: settings),
                discriminatorGroup: ParameterGroup("d", parameters: d.parameters, settings: settings),
                head: .unconditional, realTarget: 1, augment: try DiffAugment(augment), average: average)
            var random = SeededRandom(seed: 5)
            _ = adversarial.run(
                real: Tensor.uniform([8, 1, 8, 8], low: -1, high: 1, seed: 6), labels: nil, random: &random)
            return (
                g.parameters.map(\.scalars), average.average.parameters.map(\.scalars), d.parameters.map(\.scalars),
                before
            )
        }
        let plain = try step(augment: [], decay: 0.9)
        for ((a, w), b) in zip(zip(plain.average.joined(), plain.g.joined()), plain.before.joined()) {
            XCTAssertEqual(a, 0.9 * b + 0.1 * w, accuracy: 1e-6)
        }
        XCTAssertNotEqual(plain.average, plain.g)
        let augmented = try step(augment: ["translation", "cutout"], decay: 0.9)
        XCTAssertNotEqual(augmented.d, plain.d, "the discriminator learnt from changed images")
        XCTAssertThrowsError(try DiffAugment(["rotation"])) {
            XCTAssertTrue("\($0)".contains("unknown change 'rotation'"), "\($0)")
        }
        // The draws stay inside their ranges: shifts up to an eighth of the side, squares of half the side.
        var random = SeededRandom(seed: 1)
        for c in try DiffAugment(["translation", "cutout"]).draw(count: 500, height: 28, width: 28, random: &random) {
            XCTAssertTrue(abs(c.dy) <= 3 && abs(c.dx) <= 3 && c.size == 14, "\(c)")
            XCTAssertTrue((-7...20).contains(c.top) && (-7...20).contains(c.left), "\(c)")
        }
    }

    /// The truncation trick keeps every noise value within ±t; t = 0 draws exactly the plain normals.
    func testTruncatedNoiseStaysInsideItsBound() {
        let shape = GANShape(noise: 50, image: [1, 4, 4], classes: [])
        var a = SeededRandom(seed: 4), b = SeededRandom(seed: 4), c = SeededRandom(seed: 4)
        let plain = shape.generatorInput(count: 40, classes: nil, random: &a)
        XCTAssertEqual(shape.generatorInput(count: 40, classes: nil, random: &b, truncation: 0).scalars, plain.scalars)
        XCTAssertTrue(plain.scalars.contains { abs($0) > 1 }, "plain normals pass ±1")
        let cut = shape.generatorInput(count: 40, classes: nil, random: &c, truncation: 1)
        XCTAssertTrue(cut.scalars.allSatisfy { abs($0) <= 1 })
        XCTAssertNotEqual(cut.scalars, plain.scalars)
    }

    func testDiffAugmentAndAverageThroughThePipeline() throws {
        try trainSmallModels(
            extra:
                "      diff_augment: [translation, cutout]\n      generator_average: 0.9\n      checkpoint_every: 1\n")
        let html = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("moving average, decay 0.9") && html.contains("translation, cutout"))
        _ = try ModelFile.load(dir + "/out/g.safetensors")
        // The average is checkpointed beside the networks, so a resumed run carries it on.
        let (tensors, _) = try Safetensors.read(dir + "/out/g.safetensors.checkpoint")
        XCTAssertTrue(
            tensors.keys.contains { $0.hasPrefix("network.generator_average.") }, "\(tensors.keys.sorted().prefix(5))")
        XCTAssertThrowsError(
            try runPipeline(
                """
                stages:
                  - read.png: {train: \(fixtureDigits)/train}
                  - image.normalize:
                  - gan.train: {model: out/x.safetensors, diff_augment: [rotation]}
                """, name: "bad.conf", registry: registry)
        ) { XCTAssertTrue("\($0)".contains("diff_augment: unknown change 'rotation'"), "\($0)") }
    }

    func testTrainSampleReproduciblyAndEvaluate() throws {
        try trainSmallModels()
        for f in [
            "g.safetensors", "g-discriminator.safetensors", "grid.png", "metrics.json", "report.html",
            "grids/epoch-001.png", "grids/epoch-002.png",
        ] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/out/" + f), f)
        }
        let metrics = try String(contentsOfFile: dir + "/out/metrics.json", encoding: .utf8)
        XCTAssertTrue(metrics.contains("\"d_loss\"") && metrics.contains("\"g_loss\""), metrics)
        XCTAssertTrue(try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8).contains("epoch 2"))

        func sample(_ folder: String, seed: Int) throws -> Data {
            _ = try runPipeline(
                "stages:\n  - gan.sample: {model: out/g.safetensors, folder: \(folder), count: 12, seed: \(seed)}\n",
                name: "s.conf", registry: registry)
            return try Data(contentsOf: URL(fileURLWithPath: dir + "/" + folder + "/sample-0007.png"))
        }
        let a = try sample("s1", seed: 5), b = try sample("s2", seed: 5), c = try sample("s3", seed: 6)
        XCTAssertEqual(a, b, "the same seed writes the same bytes")
        XCTAssertNotEqual(a, c)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: dir + "/s1").count, 13, "12 samples and the grid")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: dir + "/s1").filter { $0.hasPrefix(".") }, [],
            "no temp files")
        _ = try runPipeline(
            "stages:\n  - gan.sample: {model: out/g.safetensors, folder: strip, count: 6, interpolate: true, seed: 1, seed_to: 2}\n",
            name: "i.conf", registry: registry)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/strip/step-0006.png"))

        // A classifier for the evaluation, trained on the same fixture digits.
        _ = try runPipeline(
            """
            stages:
              - read.png: {train: \(fixtureDigits)/train}
              - image.normalize:
              - vision.train: {model: out/c.safetensors, layers: [{dense: 16}], epochs: 3}
            """, name: "c.conf", registry: registry)
        _ = try runPipeline(
            """
            stages:
              - read.png: {train: \(fixtureDigits)/train, test: \(fixtureDigits)/test}
              - image.normalize:
              - gan.evaluate: {generator: out/g.safetensors, classifier: out/c.safetensors, count: 200, metrics: out/eval.json, judge_epochs: 4}
            """, name: "e.conf", registry: registry)
        let e = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/eval.json")))
                as? [String: Any])
        XCTAssertEqual(e["samples"] as? Int, 200)
        let p = try XCTUnwrap(e["mean_max_probability"] as? Double)
        XCTAssertTrue(p > 0.1 && p <= 1, "\(p)")
        let fid = try XCTUnwrap(e["frechet_distance"] as? Double),
            floor = try XCTUnwrap(e["frechet_distance_real_training"] as? Double)
        XCTAssertGreaterThan(
            fid, floor, "two epochs of a tiny generator are further from real digits than real digits are")
        XCTAssertNil(e["conditional_agreement"])
        // The second judge: another architecture, trained on the labelled training digits, with its own figures.
        let second = try XCTUnwrap(e["second_judge"] as? [String: Any])
        let accuracy = try XCTUnwrap(second["held_out_accuracy"] as? Double)
        XCTAssertGreaterThan(accuracy, 0.3, "chance is 0.1")
        let secondFractions = try XCTUnwrap(second["class_fractions"] as? [String: Double])
        XCTAssertEqual(secondFractions.values.reduce(0, +), 1, accuracy: 1e-3)
        let firstLayer = try XCTUnwrap((second["layers"] as? [[String: Any]])?.first?["conv"] as? [String: Any])
        XCTAssertEqual(firstLayer["size"] as? Int, 5, "5×5 kernels, not the classifier's")

        // The judge's figures for a folder of samples equal what vision.classify says of the same files.
        _ = try runPipeline(
            "stages:\n  - gan.sample: {model: out/g.safetensors, folder: judged, count: 40, seed: 5}\n",
            name: "j.conf", registry: registry)
        try FileManager.default.removeItem(atPath: dir + "/judged/grid.png")
        _ = try runPipeline(
            """
            stages:
              - read.png: {path: \(fixtureDigits)/test}
              - gan.evaluate: {samples: judged, classifier: out/c.safetensors, metrics: out/judged.json}
            """, name: "ej.conf", registry: registry)
        _ = try runPipeline(
            """
            stages:
              - read.png: {path: judged}
              - vision.classify: {model: out/c.safetensors}
              - write.csv: {path: out/judged.csv}
            """, name: "cj.conf", registry: registry)
        let judged = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/judged.json")))
                as? [String: Any])
        let rows = try String(contentsOfFile: dir + "/out/judged.csv", encoding: .utf8).split(separator: "\n")
            .dropFirst().map { $0.split(separator: ",") }
        XCTAssertEqual(rows.count, 40)
        let confidences = rows.map { Double($0[2])! }
        XCTAssertEqual(
            try XCTUnwrap(judged["mean_max_probability"] as? Double), confidences.reduce(0, +) / 40, accuracy: 1e-3)
        XCTAssertNil(judged["second_judge"], "no labelled training digits arrived: one judge only")
        let fractions = try XCTUnwrap(judged["class_fractions"] as? [String: Double])
        for label in (0...9).map(String.init) {
            let share = Double(rows.filter { $0[1] == Substring(label) }.count) / 40
            XCTAssertEqual(fractions[label] ?? 0, share, accuracy: 1e-9, "class \(label)")
        }
    }

    func testConditionalGeneratorTakesAClassAndRefusesOthers() throws {
        try trainSmallModels(conditional: true)
        _ = try runPipeline(
            "stages:\n  - gan.sample: {model: out/g.safetensors, folder: sevens, count: 5, class: '7'}\n",
            name: "s.conf", registry: registry)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/sevens/sample-0005.png"))
        XCTAssertThrowsError(
            try runPipeline(
                "stages:\n  - gan.sample: {model: out/g.safetensors, folder: x, class: 'seven'}\n", name: "s.conf",
                registry: registry)
        ) { e in
            XCTAssertTrue("\(e)".contains("class 'seven' is not one of the generator's: 0, 1, 2"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x"))
    }

    func testUnwritableSampleFolderAndWrongModelsAreRefusedBeforeAnyWork() throws {
        try trainSmallModels()
        try Data().write(to: URL(fileURLWithPath: dir + "/file"))
        XCTAssertThrowsError(
            try runPipeline(
                "stages:\n  - gan.sample: {model: out/g.safetensors, folder: file/samples}\n", name: "s.conf",
                registry: registry)
        ) { e in
            XCTAssertTrue(
                "\(e)".contains("gan.sample.folder: cannot write")
                    && "\(e)".contains("file: exists and is not a folder"), "\(e)")
        }
        XCTAssertThrowsError(
            try runPipeline(
                "stages:\n  - gan.sample: {model: out/g-discriminator.safetensors, folder: s}\n", name: "s.conf",
                registry: registry)
        ) { e in
            XCTAssertTrue("\(e)".contains("not a generator from gan.train"), "\(e)")
        }
        XCTAssertThrowsError(
            try runPipeline(
                "stages:\n  - gan.sample: {model: nothing.safetensors, folder: s}\n", name: "s.conf", registry: registry
            )
        ) { e in
            XCTAssertTrue("\(e)".contains("train one first with a gan.train pipeline"), "\(e)")
        }
        // Metadata is validated like config input: a lying noise size or class list is refused by name.
        let (tensors, meta) = try Safetensors.read(dir + "/out/g.safetensors")
        for (field, value, expected) in [
            ("noise", "99999", "lacks a noise size 1…4096"), ("classes", "[\"a\"", "is not a JSON list"),
            ("classes", "[\"a\",\"a\"]", "names a class twice"),
        ] {
            var p = try XCTUnwrap(
                JSONSerialization.jsonObject(with: Data(meta["preprocessing"]!.utf8)) as? [String: String])
            p[field] = value
            var m = meta
            m["preprocessing"] = String(decoding: try JSONSerialization.data(withJSONObject: p), as: UTF8.self)
            try Safetensors.encode(tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, metadata: m).write(
                to: URL(fileURLWithPath: dir + "/lying.safetensors"))
            XCTAssertThrowsError(
                try runPipeline(
                    "stages:\n  - gan.sample: {model: lying.safetensors, folder: s}\n", name: "s.conf",
                    registry: registry)
            ) { e in
                XCTAssertTrue("\(e)".contains(expected), "\(field)=\(value): \(e)")
            }
        }
        // A generator whose last layer does not make the images: a config error naming the layer list.
        XCTAssertThrowsError(
            try runPipeline(
                """
                stages:
                  - read.png: {train: \(fixtureDigits)/train}
                  - image.normalize:
                  - gan.train: {model: out/bad.safetensors, generator: [{dense: 10}]}
                """, name: "b.conf", registry: registry)
        ) { e in
            XCTAssertTrue("\(e)".contains("the generator makes 10 but the images are 1×28×28"), "\(e)")
        }
    }
}

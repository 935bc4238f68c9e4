// gan.sample: writes images from a generator into a folder — N samples (seeded: the same seed writes
// the same bytes) and one grid, or with `interpolate` a strip walking the noise from one seed's point to
// another's. A conditional generator is asked for one class. Every file is written atomically, and an
// unwritable folder is refused before any work (the folder is an output option). The images are also
// emitted, so a classifier or write stage can follow.
import Foundation
import Tensor
import Media
import Pipeline
import Training
import NN
import FilesAndText

/// gan.sample's options, parsed once.
struct GANSampleOptions: Decodable {
    enum CodingKeys: String, CodingKey, OptionKey {
        case model, folder, count, seed, className = "class", interpolate, seedTo = "seed_to", tensors, discriminator
        case truncation
    }

    let model: String, folder: String
    let count: Int, seed: Int
    /// Noise values beyond ±truncation are drawn again (0: none).
    let truncation: Double
    /// The class asked of a conditional generator (nil: every class in turn).
    let className: String?
    let interpolate: Bool, seedTo: Int
    let tensors: String?, discriminator: String?

    static let specs: [OptionSpec] = [
        OptionSpec(CodingKeys.model, .path, required: true, doc: "generator written by gan.train"),
        OptionSpec(
            CodingKeys.folder, .outputFolder, required: true, doc: "where the PNGs go (sample-0001.png …, grid.png)"),
        OptionSpec(
            CodingKeys.count, .int(1...100_000), default: .int(100),
            doc: "how many samples (interpolate: how many steps)"),
        OptionSpec(
            CodingKeys.seed, .int(0...Int(Int32.max)), default: .int(1),
            doc: "noise seed: the same seed writes the same images"),
        OptionSpec(
            CodingKeys.className, .string,
            doc: "conditional generators: the class to draw (default: every class in turn)"),
        OptionSpec(
            CodingKeys.interpolate, .bool, default: .bool(false),
            doc: "write a strip from seed's noise to seed_to's instead of samples"),
        OptionSpec(
            CodingKeys.seedTo, .int(0...Int(Int32.max)), default: .int(2),
            doc: "interpolate: the seed of the strip's last image"),
        OptionSpec(
            CodingKeys.tensors, .outputFile,
            doc:
                "also write the generator's inputs and raw outputs (and the discriminator's logits on them) as safetensors, for checking against other frameworks"
        ),
        OptionSpec(
            CodingKeys.discriminator, .path, doc: "with tensors: a discriminator from gan.train to judge the samples"),
        GANShape.truncationOption(CodingKeys.truncation),
    ]
}

final class GANSample: Stage, ImageSampler {
    let options: GANSampleOptions
    let net: Network
    let shape: GANShape
    let classIndex: Int?

    init(_ o: StageOptions) throws {
        options = try o.decode(GANSampleOptions.self)
        (net, shape) = try GeneratorFile.load(options.model, for: "gan.sample")
        if let c = options.className {
            guard let i = shape.classes.firstIndex(of: c) else {
                throw ConfigError(
                    o.position,
                    shape.conditional
                        ? "gan.sample: class '\(c)' is not one of the generator's: \(shape.classes.joined(separator: ", "))"
                        : "gan.sample: class '\(c)' asked of a generator that was not trained conditional")
            }
            classIndex = i
        } else {
            classIndex = nil
        }
    }

    static let spec = StageSpec(
        name: "gan.sample",
        summary: "Write images from a gan.train generator: seeded samples and a grid, or an interpolation strip",
        consumes: [.none], produces: .image, options: GANSampleOptions.specs, serving: .sampler,
        make: { try GANSample($0) })

    var sampleClasses: [String] { shape.classes }

    /// `dlpipe serve --listen`: a grid of `count` samples (at most 100, ten a row) drawn with `seed`, of one
    /// class when asked (conditional generators), as PNG bytes.
    func samplePNG(seed: Int, className: String?) throws -> [UInt8] {
        var asked = classIndex
        if let c = className {
            guard let i = shape.classes.firstIndex(of: c) else {
                throw StageError(
                    "gan.sample",
                    shape.conditional
                        ? "class '\(c)' is not one of the generator's: \(shape.classes.joined(separator: ", "))"
                        : "this generator was not trained conditional: it takes no class")
            }
            asked = i
        }
        let count = min(options.count, 100)
        var random = SeededRandom(seed: UInt64(seed))
        let labels: [Int]? = shape.conditional ? (0..<count).map { asked ?? $0 % shape.classes.count } : nil
        let images = GeneratedImages.sample(
            net, shape: shape, count: count, labels: labels, random: &random, truncation: options.truncation
        ) {}.images
        return [UInt8](try PNG.encode(Image.montage(images, columns: min(10, count))))
    }

    func start(_ ctx: RunContext, emit: Emit) throws {
        let folder = options.folder, count = options.count, interpolate = options.interpolate
        let inputs: [Tensor], images: [Image]
        if interpolate {
            let x = interpolation(count)
            inputs = [x]
            images = GeneratedImages.generate(net, x)
        } else {
            var random = SeededRandom(seed: UInt64(options.seed))
            let labels: [Int]? = shape.conditional ? (0..<count).map { classIndex ?? $0 % shape.classes.count } : nil
            (inputs, images) = try GeneratedImages.sample(
                net, shape: shape, count: count, labels: labels, random: &random, truncation: options.truncation,
                checkCancelled: ctx.checkCancelled)
        }
        if let path = options.tensors { try writeTensors(Tensor.concat(inputs, axis: 0), to: path) }
        let width = max(4, String(images.count).count)
        do {
            try makeFolder(folder)
            for (i, img) in images.enumerated() {
                let path =
                    folder + "/" + (interpolate ? "step-" : "sample-")
                    + String(repeating: "0", count: width - String(i + 1).count) + "\(i + 1).png"
                try PNG.write(img, to: path)
                ctx.countSuccess(path)
                var item = Item(file: path, split: .predict)
                item.image = img
                try emit(item)
            }
            let grid = Image.montage(
                Array(images.prefix(interpolate ? images.count : 100)), columns: interpolate ? images.count : 10)
            try PNG.write(grid, to: folder + "/grid.png")
        } catch let e as RunStopped { throw e } catch { throw writeFailure("gan.sample", folder, error) }
        ctx.progress.info("gan.sample: wrote \(images.count) images and grid.png to \(folder)")
    }

    /// The inputs, the generator's raw outputs and (with `discriminator`) its logits on them.
    func writeTensors(_ input: Tensor, to path: String) throws {
        net.eval()
        let output = Autograd.noGrad { Inference.run(net, input) }
        var tensors: [(String, Tensor)] = [("input", input), ("output", output)]
        if let dPath = options.discriminator {
            let (d, model) = try ModelFile.load(dPath, for: "gan.sample", trainer: "gan.train")
            guard model.task == "gan.train.discriminator", model.inputShape == shape.discriminatorInput else {
                throw StageError(
                    "gan.sample",
                    "\(dPath): not the discriminator of this generator (a \(model.task) model taking \(model.inputShape))"
                )
            }
            tensors.append(("discriminator_logits", Autograd.noGrad { Inference.run(d, output) }))
        }
        do {
            try makeParentFolder(path)
            try writeFileAtomically(Safetensors.encode(tensors, metadata: [:]), to: path)
        } catch { throw writeFailure("gan.sample", path, error) }
    }

    /// Noise points on the straight line between seed's and seed_to's (one class throughout).
    func interpolation(_ steps: Int) -> Tensor {
        var ra = SeededRandom(seed: UInt64(options.seed)), rb = SeededRandom(seed: UInt64(options.seedTo))
        let label = shape.conditional ? [classIndex ?? 0] : nil
        let a = shape.generatorInput(count: 1, classes: label, random: &ra),
            b = shape.generatorInput(count: 1, classes: label, random: &rb)
        let w = a.count
        var v = [Float](repeating: 0, count: steps * w)
        for s in 0..<steps {
            let t = steps == 1 ? 0 : Float(s) / Float(steps - 1)
            for j in 0..<w { v[s * w + j] = (1 - t) * a.data[j] + t * b.data[j] }
        }
        return Tensor(v, shape: [steps, w])
    }
}

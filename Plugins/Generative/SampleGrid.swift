// Turning generator outputs into pictures: tanh values −1…1 become gray images 0…1, and a fixed noise
// batch (the same every epoch, so the grids show training progress) becomes one grid image.
import Foundation
import Tensor
import Media
import Training
import FilesAndText

enum GeneratedImages {
    /// Runs the generator in evaluation mode on `input` and returns one image per sample.
    static func generate(_ g: Network, _ input: Tensor) -> [Image] {
        g.eval()
        let out = Autograd.noGrad { Inference.run(g, input) }
        let per = out.count / max(out.shape[0], 1)
        return (0..<out.shape[0]).map { i in
            let t = Tensor(Array(UnsafeBufferPointer(start: out.data + i * per, count: per)).map { max(0, min(1, ($0 + 1) / 2)) },
                           shape: Array(out.shape.dropFirst()))
            return Image(tensor: t)
        }
    }
}

/// The fixed noise batch of gan.train's grids: 100 samples (10 per class, one row each, when conditional).
struct SampleGrid {
    let shape: GANShape
    let input: Tensor

    init(shape: GANShape, seed: UInt64) {
        self.shape = shape
        var random = SeededRandom(seed: seed &+ 0x6772_6964)
        let labels: [Int]? = shape.conditional ? (0..<100).map { ($0 / 10) % shape.classes.count } : nil
        input = shape.generatorInput(count: 100, classes: labels, random: &random)
    }

    func render(_ g: Network) -> Image {
        Image.montage(GeneratedImages.generate(g, input), columns: 10)
    }
}

extension GANShape {
    /// Class names as a JSON list, for the generator's model-file metadata.
    static func classesJSON(_ classes: [String]) -> String { "[" + classes.map(jsonQuoted).joined(separator: ",") + "]" }
}

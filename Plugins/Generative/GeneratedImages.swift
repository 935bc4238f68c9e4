// Turning generator outputs into pictures: tanh values −1…1 become gray images 0…1, drawn in chunks.
import Foundation
import Tensor
import Media
import Training

enum GeneratedImages {
    /// Runs the generator in evaluation mode on `input` and returns one image per sample.
    static func generate(_ g: Network, _ input: Tensor) -> [Image] {
        g.eval()
        let out = Autograd.noGrad { Inference.run(g, input) }
        let per = out.count / max(out.shape[0], 1)
        return (0..<out.shape[0]).map { i in
            let t = Tensor(
                Array(UnsafeBufferPointer(start: out.data + i * per, count: per)).map { max(0, min(1, ($0 + 1) / 2)) },
                shape: Array(out.shape.dropFirst()))
            return Image(tensor: t)
        }
    }

    /// `count` samples from noise drawn from `random` (a conditional generator asked for `labels[i]`),
    /// generated 256 at a time so a large count never holds one huge batch; `checkCancelled` runs
    /// between chunks. Returns the generator's inputs, chunk by chunk, and the images.
    static func sample(
        _ g: Network, shape: GANShape, count: Int, labels: [Int]?, random: inout SeededRandom, truncation: Double = 0,
        checkCancelled: () throws -> Void
    ) rethrows -> (inputs: [Tensor], images: [Image]) {
        var inputs: [Tensor] = [], images: [Image] = []
        while images.count < count {
            try checkCancelled()
            let done = images.count, n = min(256, count - done)
            let x = shape.generatorInput(
                count: n, classes: labels.map { Array($0[done..<(done + n)]) }, random: &random, truncation: truncation)
            inputs.append(x)
            images += generate(g, x)
        }
        return (inputs, images)
    }
}

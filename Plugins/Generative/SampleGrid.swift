// gan.train's grids: a fixed noise batch (the same every epoch, so the grids show training progress)
// drawn into one grid image.
import Foundation
import Tensor
import Media
import Training

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

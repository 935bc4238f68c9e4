// The default DCGAN's training step, for `dlpipe bench train-gan`.
import Foundation
import Tensor
import NN
import Training

public enum GANBenchmark {
    /// A step function over real batches [64, 1, 28, 28] with the default networks and two Adams
    /// (lr 1e-4, as the peers), with the alternating or (as the Keras peer) the simultaneous update rule.
    public static func makeStep(seed: UInt64, simultaneous: Bool = false) -> (Tensor, inout SeededRandom) -> Void {
        let shape = GANShape(noise: 100, image: [1, 28, 28], classes: [])
        let (g, d) = try! shape.build(generator: DCGAN.generator, discriminator: DCGAN.discriminator, seed: seed)
        var settings = OptimizerSettings()
        settings.learningRate = 1e-4
        let step = AdversarialStep(
            shape: shape, generator: g, discriminator: d,
            generatorGroup: ParameterGroup("generator", parameters: g.parameters, settings: settings),
            discriminatorGroup: ParameterGroup("discriminator", parameters: d.parameters, settings: settings),
            head: .unconditional, realTarget: 1, rule: simultaneous ? .simultaneous : .alternating)
        g.train()
        d.train()
        return { real, random in _ = step.run(real: real, labels: nil, random: &random) }
    }
}

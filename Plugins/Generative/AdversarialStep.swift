// One step of GAN training: the discriminator learns from a real batch and a generated one (BCE with
// logits), and the generator learns through the discriminator to make it answer "real" (conditional: also
// to have its samples named as the class asked for, see DiscriminatorHead.swift). With the alternating rule
// (PyTorch's DCGAN example) the generator learns through the discriminator already updated on this batch;
// with the simultaneous rule (the TensorFlow DCGAN tutorial, the Keras peer) both gradients are taken at the
// same weights and both networks step after. During the generator's backward pass the discriminator's
// weights are frozen, so their gradients, which nobody uses, are never computed.
import Foundation
import Tensor
import NN
import Training

/// When the discriminator's update happens relative to the generator's gradient.
enum GANUpdateRule: String, CaseIterable {
    case alternating, simultaneous
}

struct AdversarialStep {
    let shape: GANShape
    let generator: Network, discriminator: Network
    let generatorGroup: ParameterGroup, discriminatorGroup: ParameterGroup
    let head: DiscriminatorHead
    /// Target for real images in the discriminator's loss: 1, or less with one-sided label smoothing.
    let realTarget: Float
    var rule = GANUpdateRule.alternating
    /// Changes every image gets before the discriminator sees it (none when inactive).
    var augment: DiffAugment? = nil
    /// The generator's weight average, folded in after each generator step.
    var average: WeightAverage? = nil

    struct Losses {
        var discriminator: Float
        var generator: Float
        /// Mean probability the discriminator gives real and generated images (before its update).
        var realScore: Float
        var fakeScore: Float
    }

    /// Trains on one batch of real images [N, C, H, W] in −1…1 (with their classes when conditional).
    func run(real: Tensor, labels: [Int]?, random: inout SeededRandom) -> Losses {
        let n = real.shape[0]
        let fakeLabels: [Int]? = shape.conditional ? (0..<n).map { _ in random.nextInt(shape.classes.count) } : nil
        let fake = generator(shape.generatorInput(count: n, classes: fakeLabels, random: &random))

        // What the discriminator sees: the images, changed alike when diff_augment is on.
        func seen(_ x: Tensor) -> Tensor { augment.map { $0.apply(x, random: &random) } ?? x }

        discriminatorGroup.zeroGrad()
        // The discriminator learns to name real images only: naming a poor sample's class teaches nothing.
        let onReal = discriminator(seen(real)), onFake = discriminator(seen(fake.detached()))
        let lossD =
            head.loss(onReal, labels: labels, target: realTarget, naming: true)
            + head.loss(onFake, labels: fakeLabels, target: 0, naming: false)
        lossD.backward()
        if rule == .alternating { discriminatorGroup.step() }

        generatorGroup.zeroGrad()
        let weights = discriminator.parameters
        for p in weights { p.requiresGrad = false }
        defer { for p in weights { p.requiresGrad = true } }
        let lossG = head.loss(discriminator(seen(fake)), labels: fakeLabels, target: 1, naming: true)
        lossG.backward()
        generatorGroup.step()
        average?.update()
        if rule == .simultaneous { discriminatorGroup.step() }

        return Autograd.noGrad {
            Losses(
                discriminator: lossD.item, generator: lossG.item,
                realScore: meanProbability(head.logits(onReal, labels: labels)),
                fakeScore: meanProbability(head.logits(onFake, labels: fakeLabels)))
        }
    }

    func meanProbability(_ logits: Tensor) -> Float {
        var s: Float = 0
        for i in 0..<logits.count { s += 1 / (1 + Foundation.exp(-logits.data[i])) }
        return s / Float(max(logits.count, 1))
    }
}

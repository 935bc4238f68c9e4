// How a discriminator's outputs become its loss. Unconditional: one real/fake logit, BCE. Conditional:
// the discriminator ends in 1 + classes values. The real/fake logit of an image with class y is
// out₀ + out₁₊ᵧ — a projection discriminator (Miyato & Koyama 2018): row 1 + y of the last dense
// layer is class y's embedding, and its inner product with the features is how the discriminator
// sees the class. The same class outputs are also read as class logits (an auxiliary classifier,
// Odena et al. 2017): the discriminator learns to name real digits, and the generator to make samples
// it names as asked. One-hot class planes concatenated to the image would let the discriminator ignore
// the class (docs/experiments/gan.md).
import Tensor
import NN

struct DiscriminatorHead {
    /// Class count of a conditional GAN (0 otherwise).
    let classes: Int
    /// Weight of the class cross-entropy next to the real/fake BCE (0: projection only).
    let classWeight: Float

    var outputs: Int { 1 + classes }

    static let unconditional = DiscriminatorHead(classes: 0, classWeight: 0)

    /// The real/fake logit per image [N, 1]: the first output, plus (conditional) the image's class output.
    func logits(_ out: Tensor, labels: [Int]?) -> Tensor {
        guard classes > 0, let labels else { return out }
        return out.narrowed(axis: 1, 0..<1) + (classOutputs(out) * oneHot(labels)).sum(axes: [1], keepDims: true)
    }

    /// BCE of the real/fake logits against `target`; with `naming` (conditional), plus `classWeight` ×
    /// the cross-entropy of the class outputs against `labels`.
    func loss(_ out: Tensor, labels: [Int]?, target: Float, naming: Bool) -> Tensor {
        let z = logits(out, labels: labels)
        let adversarial = Loss.bceWithLogits(z, Tensor.full(z.shape, target))
        guard naming, classes > 0, classWeight > 0, let labels else { return adversarial }
        return adversarial + Loss.crossEntropy(classOutputs(out), labels: labels) * classWeight
    }

    func classOutputs(_ out: Tensor) -> Tensor { out.narrowed(axis: 1, 1..<outputs) }

    func oneHot(_ labels: [Int]) -> Tensor {
        var v = [Float](repeating: 0, count: labels.count * classes)
        for (i, c) in labels.enumerated() { v[i * classes + c] = 1 }
        return Tensor(v, shape: [labels.count, classes])
    }
}

// The DCGAN of the TensorFlow tutorial as two layer lists (the defaults of gan.train's `generator` and
// `discriminator` options). Images are 1×28×28 in −1…1 (tanh); noise is `noise` standard normals. A
// class-conditional model feeds the generator its class as a one-hot after the noise; the discriminator's
// last dense layer gets one more output per class (DiscriminatorHead.swift).
import Foundation
import Tensor
import NN
import Training
import Pipeline

enum DCGAN {
    /// Dense(7·7·256, no bias) → BN → LeakyReLU(0.2) → reshape → ConvT(128, 5) → BN → LeakyReLU →
    /// ConvT(64, 5, s2) → BN → LeakyReLU → ConvT(1, 5, s2) → tanh.
    static let generator: [LayerSpec] = [
        .dense(units: 7 * 7 * 256, activation: .none, bias: false), .batchnorm, .activation(leaky),
        .reshape([256, 7, 7]),
        .convTranspose(ConvSpec(filters: 128, size: 5, stride: 1, padding: 2, activation: .none, bias: false)),
        .batchnorm, .activation(leaky),
        .convTranspose(
            ConvSpec(filters: 64, size: 5, stride: 2, padding: 2, outputPadding: 1, activation: .none, bias: false)),
        .batchnorm, .activation(leaky),
        .convTranspose(
            ConvSpec(
                filters: 1, size: 5, stride: 2, padding: 2, outputPadding: 1, activation: ActivationSpec(.tanh),
                bias: false)),
    ]

    /// Conv(64, 5, s2) → LeakyReLU(0.2) → Dropout(0.3) → Conv(128, 5, s2) → LeakyReLU → Dropout(0.3) → Dense(1).
    static let discriminator: [LayerSpec] = [
        .conv(ConvSpec(filters: 64, size: 5, stride: 2, padding: 2, activation: leaky)), .dropout(rate: 0.3),
        .conv(ConvSpec(filters: 128, size: 5, stride: 2, padding: 2, activation: leaky)), .dropout(rate: 0.3),
        .flatten, .dense(units: 1, activation: .none, bias: true),
    ]

    static let leaky = ActivationSpec(.leakyReLU, slope: 0.2)
}

/// The two networks of a GAN and the shapes they agree on.
struct GANShape: Equatable {
    /// Noise values per sample.
    let noise: Int
    /// [C, H, W] of an image.
    let image: [Int]
    /// Class names of a conditional model (empty otherwise).
    let classes: [String]

    var conditional: Bool { !classes.isEmpty }
    var generatorInput: [Int] { [noise + classes.count] }
    var discriminatorInput: [Int] { image }

    /// Checks that the layer lists fit: the generator makes exactly an image, the discriminator one logit
    /// (conditional: its last layer, dense: 1, is widened to one output more per class).
    func build(generator: [LayerSpec], discriminator: [LayerSpec], seed: UInt64) throws -> (g: Network, d: Network) {
        let g = try Network(layers: generator, inputShape: generatorInput, seed: seed)
        guard g.outputShape == image else {
            throw NetworkError(
                "the generator makes \(g.outputShape.map(String.init).joined(separator: "×")) but the images are \(image.map(String.init).joined(separator: "×")); its last layer must produce the image"
            )
        }
        var layers = discriminator
        if conditional, case .dense(1, let activation, let bias)? = layers.last {
            layers[layers.count - 1] = .dense(units: 1 + classes.count, activation: activation, bias: bias)
        }
        let d = try Network(layers: layers, inputShape: discriminatorInput, seed: seed &+ 1)
        guard d.outputShape == [1 + classes.count] else {
            throw NetworkError("the discriminator ends in \(d.outputShape) values; it must end in one logit (dense: 1)")
        }
        return (g, d)
    }

    /// Generator input for `count` samples: noise from `random`, then the one-hot class (conditional).
    /// gan.sample's and gan.evaluate's `truncation` option.
    static func truncationOption<K: OptionKey>(_ key: K) -> OptionSpec {
        OptionSpec(
            key, .float(0...10), default: .float(0),
            doc:
                "the truncation trick: noise values beyond ±this are drawn again, for clearer, less varied samples (0 = none)"
        )
    }

    /// With `truncation` t > 0, a noise value beyond ±t is drawn again (the truncation trick: samples nearer
    /// the middle of the noise distribution, clearer and less varied); 0 leaves the normals as drawn.
    func generatorInput(count: Int, classes labels: [Int]?, random: inout SeededRandom, truncation: Double = 0)
        -> Tensor
    {
        let width = noise + classes.count
        var v = [Float](repeating: 0, count: count * width)
        for i in 0..<count {
            for j in 0..<noise {
                var z = random.nextNormal()
                while truncation > 0 && Double(abs(z)) > truncation { z = random.nextNormal() }
                v[i * width + j] = z
            }
            if let labels { v[i * width + noise + labels[i]] = 1 }
        }
        return Tensor(v, shape: [count, width])
    }
}

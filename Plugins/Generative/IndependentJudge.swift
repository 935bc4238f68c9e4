// gan.evaluate's own second judge: a small classifier of another architecture (5×5 convolutions where the
// given classifier has 3×3 ones) and another seed, trained on the same real training digits the stage
// receives. A judge that shares the given classifier's layers and training flatters samples that happen to
// fool that one network; two judges that agree are harder to fool.
import Foundation
import Tensor
import NN
import Media
import Pipeline
import Training

struct IndependentJudge {
    static func layers(classes: Int) -> [LayerSpec] {
        [
            .conv(ConvSpec(filters: 16, size: 5, padding: 2)), .maxpool(size: 2),
            .conv(ConvSpec(filters: 32, size: 5, padding: 2)), .maxpool(size: 2),
            .dense(units: 64, activation: .relu, bias: true), .classifierHead(classes: classes),
        ]
    }

    let network: Network
    /// Its accuracy on the labelled real held-out images (nil when they carry no labels).
    let heldOutAccuracy: Double?

    /// Trains the judge for `epochs` (Adam 1e-3, batch 32) on `images` labelled `labels` (class indices).
    init(
        images: Tensor, labels: [Int], classes: Int, heldOut: (x: Tensor, labels: [Int])?, epochs: Int, seed: Int,
        ctx: RunContext
    ) throws {
        let shape = Array(images.shape.dropFirst())
        network = try Network(layers: Self.layers(classes: classes), inputShape: shape, seed: UInt64(seed))
        let group = ParameterGroup(
            "judge", parameters: network.parameters,
            settings: OptimizerSettings(kind: .adam, learningRate: 1e-3, schedule: .constant))
        let trainer = ClassifierTrainer(net: network, group: group, throughputName: "images_per_s")
        let batches = ImageBatches(images: images, labels: labels)
        for e in 0..<epochs {
            group.startEpoch(e, of: epochs)
            let loader = BatchLoader(batches, batchSize: 32, seed: UInt64(seed) &+ UInt64(e))
            _ = try trainer.epoch(
                e, of: epochs, batches: loader, batchCount: loader.batchCount, validation: nil, ctx: ctx,
                lastCheckpoint: nil)
        }
        network.eval()
        let net = network
        heldOutAccuracy = heldOut.map { h in
            let predicted = Autograd.noGrad { Inference.run(net, h.x) }.argmaxRows()
            return Double(zip(predicted, h.labels).filter { $0 == $1 }.count) / Double(max(h.labels.count, 1))
        }
    }
}

// An exponential moving average of a network's weights (Polyak averaging; the "EMA generator" of GAN
// training): after each optimizer step, average ← decay·average + (1 − decay)·weight. The average lives in a
// twin network of the same layers, so a training loop checkpoints and restores it like any network, and the
// twin is what gets sampled from and written. Batch-norm running statistics belong to the weights that made
// them, so before the average is used they are measured again on its own outputs (`recalibrate`).
import Foundation
import Tensor
import NN

public struct WeightAverage {
    public let decay: Float
    /// The averaged network.
    public let average: Network
    let source: Network
    /// (average, source) parameter pairs, gathered once: `update` runs after every step.
    let pairs: [(average: Tensor, source: Tensor)]

    /// Starts the average at `net`'s current weights.
    public init(of net: Network, decay: Float) throws {
        self.decay = decay
        source = net
        average = try Network(layers: net.layers, inputShape: net.inputShape, seed: 0)
        pairs = Array(zip(average.parameters, net.parameters))
        copyAll()
    }

    /// Folds the source's current weights into the average; call after each optimizer step.
    public func update() {
        let a = decay, b = 1 - decay
        for (avg, w) in pairs {
            let x = avg.data, y = w.data
            for i in 0..<w.count { x[i] = a * x[i] + b * y[i] }
        }
    }

    /// Copies the source's buffers (running statistics) into the average, before it is used.
    public func copyBuffers() {
        let mine = Dictionary(uniqueKeysWithValues: average.stateDict())
        let parameters = Set(average.namedParameters().map { $0.0 })
        for (name, t) in source.stateDict() where !parameters.contains(name) {
            if let dst = mine[name] { dst.data.update(from: t.data, count: t.count) }
        }
    }

    /// Measures the average's batch-norm running statistics afresh: `batches` forward passes in training mode
    /// (each moves them by the layer's momentum, so 50 passes leave under 1 % of the previous values).
    public func recalibrate(batches: Int, input: () -> Tensor) {
        copyBuffers()
        average.train()
        for _ in 0..<batches { _ = average(input()) }
        average.eval()
    }

    func copyAll() {
        let mine = Dictionary(uniqueKeysWithValues: average.stateDict())
        for (name, t) in source.stateDict() { mine[name]!.data.update(from: t.data, count: t.count) }
    }
}

// Losses, each returning a scalar tensor (mean over the batch).
import Foundation
import Tensor

public enum Loss {
    /// Mean squared error.
    public static func mse(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        precondition(prediction.shape == target.shape, "mse: prediction \(prediction.shape) vs target \(target.shape)")
        return (prediction - target).squared().mean()
    }

    /// Cross-entropy of logits [N, C] against integer labels, fused: log-softmax and NLL in one pass,
    /// backward (softmax − onehot)/N without materialising either.
    ///
    ///     let loss = Loss.crossEntropy(logits, labels: [3, 1, 4])
    public static func crossEntropy(_ logits: Tensor, labels: [Int]) -> Tensor {
        precondition(
            logits.rank == 2 && logits.shape[0] == labels.count,
            "crossEntropy: logits \(logits.shape) for \(labels.count) labels")
        let n = logits.shape[0], c = logits.shape[1]
        let probs = Tensor(uninitialized: logits.shape)
        var total: Double = 0
        for i in 0..<n {
            precondition(labels[i] >= 0 && labels[i] < c, "crossEntropy: label \(labels[i]) outside 0..<\(c)")
            let row = probs.data + i * c
            softmaxRow(logits.data + i * c, row, c, log: true)
            total -= Double(row[labels[i]])
            for j in 0..<c { row[j] = Foundation.exp(row[j]) }
        }
        let out = Tensor([Float(total / Double(max(n, 1)))], shape: [])
        return out.recordedLoss([logits]) { g in
            let gi = Tensor(uninitialized: logits.shape)
            let scale = g / Float(max(n, 1))
            for i in 0..<n {
                for j in 0..<c { gi.data[i * c + j] = probs.data[i * c + j] * scale }
                gi.data[i * c + labels[i]] -= scale
            }
            return [gi]
        }
    }

    /// Binary cross-entropy on logits (stable form: max(x,0) − x·t + log(1+e^−|x|)).
    public static func bceWithLogits(_ logits: Tensor, _ target: Tensor) -> Tensor {
        precondition(logits.shape == target.shape, "bceWithLogits: logits \(logits.shape) vs target \(target.shape)")
        let n = logits.count
        var total: Double = 0
        for i in 0..<n {
            let x = logits.data[i], t = target.data[i]
            total += Double(max(x, 0) - x * t + Foundation.log1p(Foundation.exp(-abs(x))))
        }
        let out = Tensor([Float(total / Double(max(n, 1)))], shape: [])
        return out.recordedLoss([logits]) { g in
            let gi = Tensor(uninitialized: logits.shape)
            let scale = g / Float(max(n, 1))
            for i in 0..<n { gi.data[i] = (1 / (1 + Foundation.exp(-logits.data[i])) - target.data[i]) * scale }
            return [gi]
        }
    }
}

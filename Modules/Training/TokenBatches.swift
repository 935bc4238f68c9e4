// Batches of token windows for next-token prediction, drawn from anywhere in the stream.
import Foundation
import Tensor

/// Windows of a token stream for next-token prediction: inputs [B, T] (ids as whole-number Floats)
/// and targets [B·T], the same windows shifted by one.
public struct TokenBatch {
    public let inputs: Tensor
    public let targets: [Int]
}

public struct TokenBatches: BatchSource {
    public let tokens: [Int32]
    public let window: Int
    /// Windows start every `window` tokens; the last one must leave a token for its final target.
    public init(tokens: [Int32], window: Int) {
        precondition(window > 0, "TokenBatches: window must be positive")
        self.tokens = tokens
        self.window = window
    }
    public var count: Int { tokens.count > window ? (tokens.count - 1) / window : 0 }

    public func batch(_ idx: [Int], rng: inout SeededRandom) -> TokenBatch {
        let x = Tensor(uninitialized: [idx.count, window])
        var targets: [Int] = []
        targets.reserveCapacity(idx.count * window)
        for (j, i) in idx.enumerated() {
            let start = i * window
            for k in 0..<window {
                x.data[j * window + k] = Float(tokens[start + k])
                targets.append(Int(tokens[start + k + 1]))
            }
        }
        return TokenBatch(inputs: x, targets: targets)
    }
}

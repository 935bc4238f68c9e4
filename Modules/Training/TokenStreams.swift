// A token stream read as parallel contiguous parts, for truncated backpropagation through time.
import Foundation
import Tensor

/// A token stream cut into `streams` contiguous parts read side by side, `window` tokens per step: batch k
/// holds window k of every part, so a recurrent network that carries its state from batch to batch
/// (truncated BPTT) reads each part as one long sequence. Use with `BatchLoader(…, batchSize: 1,
/// shuffle: false)`: each "index" is a step. `offset` tokens are skipped first (a different one each
/// epoch cuts the windows at other places).
public struct TokenStreams: BatchSource {
    public let tokens: [Int32]
    public let streams: Int, window: Int, offset: Int
    public init(tokens: [Int32], streams: Int, window: Int, offset: Int = 0) {
        precondition(streams > 0 && window > 0 && offset >= 0, "TokenStreams: streams, window must be positive")
        self.tokens = tokens
        self.streams = streams
        self.window = window
        self.offset = offset
    }
    /// Tokens per stream (each needs one more for its last target).
    var streamLength: Int { Swift.max(0, (tokens.count - offset - 1) / streams) }
    public var count: Int { streamLength / window }

    public func batch(_ idx: [Int], rng: inout SeededRandom) -> TokenBatch {
        precondition(idx.count == 1, "TokenStreams: one step per batch")
        let x = Tensor(uninitialized: [streams, window])
        var targets: [Int] = []
        targets.reserveCapacity(streams * window)
        for r in 0..<streams {
            let start = offset + r * streamLength + idx[0] * window
            for k in 0..<window {
                x.data[r * window + k] = Float(tokens[start + k])
                targets.append(Int(tokens[start + k + 1]))
            }
        }
        return TokenBatch(inputs: x, targets: targets)
    }
}

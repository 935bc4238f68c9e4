// Bits per character: how well a character model predicts a text it reads, the text stage's figure.
import Foundation
import Tensor
import NN
import Training

/// Bits per character of a model (left in evaluation mode) on a token stream: the stream is read as `streams` parts side by side
/// with the state carried from window to window, as in training, without recording gradients.
enum BitsPerCharacter {
    static func of(_ net: Network, tokens: [Int32], streams: Int = 16, window: Int = 256) -> Double? {
        // A short text is read as one stream in one window.
        let window = Swift.min(window, Swift.max(1, tokens.count - 1))
        let s = Swift.max(1, Swift.min(streams, (tokens.count - 1) / window))
        let source = TokenStreams(tokens: tokens, streams: s, window: window)
        guard source.count > 0 else { return nil }
        net.eval()
        net.carryRecurrentState(true)
        defer { net.carryRecurrentState(false) }
        var nats = 0.0, n = 0
        var rng = SeededRandom(seed: 0)
        for k in 0..<source.count {
            let b = source.batch([k], rng: &rng)
            let loss = Autograd.noGrad { () -> Float in
                let logits = net(b.inputs)
                return Loss.crossEntropy(logits.reshaped([b.targets.count, -1]), labels: b.targets).item
            }
            nats += Double(loss) * Double(b.targets.count)
            n += b.targets.count
        }
        return nats / Double(n) / log(2)
    }
}

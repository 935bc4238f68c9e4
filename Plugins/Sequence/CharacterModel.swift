// A character-level language model: embedding → stacked LSTM or GRU over the sequence → a dense layer
// at every step giving the next character's logits. Built from the shared layer list, so its model
// file and PyTorch names are the ones every network has (emb1, lstm, fc1).
import Foundation
import Tensor
import NN
import Training

struct CharacterModelShape: CustomStringConvertible {
    var cell: Recurrent.Kind = .lstm
    var embedding = 64, hidden = 256, layers = 2

    func layers(vocabulary: Int) -> [LayerSpec] {
        [.embedding(vocabulary: vocabulary, size: embedding),
         .recurrent(RecurrentSpec(cell, hidden: hidden, layers: layers, sequence: true)),
         .dense(units: vocabulary, activation: ActivationSpec(.none), bias: true)]
    }

    var description: String { "embedding \(embedding), \(cell.rawValue) \(layers)×\(hidden)" }
}

/// Bits per character of a model (left in evaluation mode) on a token stream: the stream is read as `streams` parts side by side
/// with the state carried from window to window, as in training, without recording gradients.
enum BitsPerCharacter {
    static func of(_ net: Network, tokens: [Int32], streams: Int = 16, window: Int = 256) -> Double? {
        // A short text is read as one stream in one window.
        let window = Swift.min(window, Swift.max(1, tokens.count - 1))
        let s = Swift.max(1, Swift.min(streams, (tokens.count - 1) / window))
        let source = TokenStreams(tokens: tokens, streams: s, window: window)
        guard source.count > 0 else { return nil }
        net.eval(); net.carryRecurrentState(true)
        defer { net.carryRecurrentState(false) }
        var nats = 0.0, n = 0
        var rng = SeededRandom(seed: 0)
        for k in 0..<source.count {
            let b = source.batch([k], rng: &rng)
            let loss = Autograd.noGrad { () -> Float in
                let logits = net(b.inputs)
                return Loss.crossEntropy(logits.reshaped([b.targets.count, -1]), labels: b.targets).item
            }
            nats += Double(loss) * Double(b.targets.count); n += b.targets.count
        }
        return nats / Double(n) / log(2)
    }
}

/// Text from a character model (left in evaluation mode), one character at a time with the state carried: each next character is
/// drawn from the softmax of the logits divided by `temperature`, among the `topK` most likely (0 = all).
struct CharacterSampler {
    let net: Network
    let vocabulary: Vocabulary

    /// `every256` runs after every 256 characters (progress, Ctrl-C); what it throws ends the generation.
    func generate(prompt: [Int32], length: Int, temperature: Double, topK: Int, rng: inout SeededRandom,
                  every256: (Int) throws -> Void) rethrows -> [Int32] {
        net.eval(); net.carryRecurrentState(true)
        defer { net.carryRecurrentState(false) }
        // Without a prompt, the model starts as after a paragraph break (or at its first character).
        var input = prompt.isEmpty ? [vocabulary.ids["\n"] ?? 0] : prompt
        var out: [Int32] = []
        out.reserveCapacity(length)
        while out.count < length {
            let x = Tensor(input.map(Float.init), shape: [1, input.count])
            let logits = Autograd.noGrad { net(x) }
            let v = vocabulary.count
            let last = Array(UnsafeBufferPointer(start: logits.data + (input.count - 1) * v, count: v))
            let next = Int32(draw(last, temperature: temperature, topK: topK, rng: &rng))
            out.append(next)
            input = [next]
            if out.count % 256 == 0 { try every256(out.count) }
        }
        return out
    }

    func draw(_ logits: [Float], temperature: Double, topK: Int, rng: inout SeededRandom) -> Int {
        var ranked = logits.indices.sorted { logits[$0] > logits[$1] }
        if topK > 0 { ranked = Array(ranked.prefix(topK)) }
        let top = Double(logits[ranked[0]])
        let weights = ranked.map { Foundation.exp((Double(logits[$0]) - top) / temperature) }
        var u = Double(rng.nextFloat()) * weights.reduce(0, +)
        for (i, w) in zip(ranked, weights) {
            u -= w
            if u <= 0 { return i }
        }
        return ranked[0]
    }
}

// Drawing text from a character model one character at a time, the state carried along.
import Foundation
import Tensor
import NN
import Training

/// Text from a character model (left in evaluation mode), one character at a time with the state carried: each next character is
/// drawn from the softmax of the logits divided by `temperature`, among the `topK` most likely (0 = all).
struct CharacterSampler {
    let net: Network
    let vocabulary: Vocabulary

    /// `every256` runs after every 256 characters (progress, Ctrl-C); what it throws ends the generation.
    func generate(
        prompt: [Int32], length: Int, temperature: Double, topK: Int, rng: inout SeededRandom,
        every256: (Int) throws -> Void
    ) rethrows -> [Int32] {
        net.eval()
        net.carryRecurrentState(true)
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

// The text report's curve within epochs: every `every` steps, the training bits per character since the last
// point and the validation bits per character on a fixed prefix of the validation text. The validation
// pass runs on a twin of the network with the current weights, so the training network's carried state
// and mode are untouched and training goes on exactly as without the curve.
import Foundation
import Tensor
import NN
import Training

final class ValidationCurve {
    let every: Int
    let twin: Network
    let source: Network
    let prefix: [Int32]
    /// Training loss and characters since the last point.
    var nats = 0.0, characters = 0

    /// nil when `every` is 0.
    init?(_ net: Network, validation: [Int32], every: Int) throws {
        guard every > 0 else { return nil }
        self.every = every
        source = net
        twin = try Network(layers: net.layers, inputShape: net.inputShape, seed: 0)
        prefix = Array(validation.prefix(TextTrain.curveCharacters))
    }

    /// Counts one training step (`step` counted over all epochs from 1); at every `every`-th, the point.
    func add(step: Int, nats: Double, characters: Int) -> [Metric]? {
        self.nats += nats
        self.characters += characters
        guard step % every == 0 else { return nil }
        defer { (self.nats, self.characters) = (0, 0) }
        return point(step: step, trainingNats: self.nats, characters: self.characters)
    }

    /// One point: the step, the training figure from `trainingNats` over `characters`, the validation one.
    func point(step: Int, trainingNats: Double, characters: Int) -> [Metric] {
        for ((_, dst), (_, src)) in zip(twin.stateDict(), source.stateDict()) {
            dst.data.update(from: src.data, count: src.count)
        }
        var p = [
            Metric("step", Double(step)), Metric("bits_per_char", trainingNats / Double(max(characters, 1)) / log(2)),
        ]
        if let v = BitsPerCharacter.of(twin, tokens: prefix) { p.append(Metric("validation_bits_per_char", v)) }
        return p
    }
}

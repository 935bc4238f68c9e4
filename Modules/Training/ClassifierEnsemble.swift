// The classifier a classify stage runs: its `model`, and optionally more models for the same question (other
// seeds, other layers) named by `ensemble`, whose class probabilities are averaged with its own. Averaging
// models that err differently is the cheapest gain on inputs unlike the training data
// (docs/experiments/speech.md). Every member must come from the same trainer and take the same
// input, prepared the same way, to the same classes.
import Foundation
import Tensor
import NN
import Pipeline

public struct ClassifierEnsemble {
    /// The networks, the stage's `model` first.
    public let members: [Network]
    /// The first member's description (classes, input shape, preprocessing), which every member shares.
    public let model: ModelFile

    public init(members: [Network], model: ModelFile) {
        self.members = members
        self.model = model
    }

    /// Loads `model` and then each of `others` (every network of each: a file may hold an ensemble's
    /// members); a model that differs from `model` is refused by name.
    public static func load(model path: String, others: [String], for stage: String, trainer: String) throws
        -> ClassifierEnsemble
    {
        let (first, description) = try ModelFile.loadMembers(path, for: stage, trainer: trainer)
        var members = first
        for other in others {
            let (nets, m) = try ModelFile.loadMembers(other, for: stage, trainer: trainer)
            func differs(_ what: String) -> StageError {
                StageError(
                    stage,
                    "\(other): its \(what) differ from those of \(path); an ensemble's models must take the same inputs, prepared the same way, to the same classes"
                )
            }
            guard m.task == description.task else {
                throw StageError(stage, "\(other): a \(m.task) model, not a \(description.task) one like \(path)")
            }
            guard m.labels == description.labels else { throw differs("classes") }
            guard m.inputShape == description.inputShape else {
                throw differs("input shape \(m.inputShape) and \(description.inputShape)")
            }
            guard m.preprocessing == description.preprocessing else { throw differs("preprocessing settings") }
            members += nets
        }
        return ClassifierEnsemble(members: members, model: description)
    }

    /// The ensemble's outputs for one batch: `run(member)` gives a member's logits [N, C].
    public func logits(_ run: (Network) -> Tensor) -> Tensor { Self.averaged(members.map(run)) }

    /// One member's logits as they are; several members' as the logarithm of their mean softmax
    /// probability: logits whose softmax is that mean.
    static func averaged(_ outputs: [Tensor]) -> Tensor {
        if outputs.count == 1 { return outputs[0] }
        return Autograd.noGrad {
            let probabilities = outputs.map { $0.softmax() }
            let out = Tensor(uninitialized: outputs[0].shape), scale = 1 / Float(outputs.count)
            for i in 0..<out.count {
                var sum: Float = 0
                for p in probabilities { sum += p.data[i] }
                // A probability of 0 (underflow) stays finite, so the predictions' logits stay valid JSON numbers.
                out.data[i] = Foundation.log(Swift.max(sum * scale, Float.leastNormalMagnitude))
            }
            return out
        }
    }

    /// The `ensemble` option every classify stage has.
    public static func option(trainer: String) -> OptionSpec {
        OptionSpec(
            ClassifyOptions.CodingKeys.ensemble, .pathList, default: .list([]),
            doc:
                "more model files from \(trainer) with the same classes and input (other seeds, say); the class probabilities of all are averaged"
        )
    }
}

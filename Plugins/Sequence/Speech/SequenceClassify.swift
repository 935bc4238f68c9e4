// sequence.classify: predicts a label (with top-k probabilities) for every feature sequence, with a
// model from sequence.train, preparing each sequence as the model file records. Sequences are
// gathered and run in padded batches of similar lengths.
import Foundation
import Tensor
import NN
import Pipeline
import Training

final class SequenceClassify: Stage {
    let ensemble: ClassifierEnsemble
    let classes: [String]
    let normalization: FeatureNormalization
    let topK: Int, batchSize: Int
    var pending: [Item] = []

    init(_ o: StageOptions) throws {
        let path = o.string("model")
        ensemble = try ClassifierEnsemble.load(model: path, others: o.strings("ensemble"), for: "sequence.classify", trainer: "sequence.train")
        let model = ensemble.model
        guard model.inputShape.count == 2, !model.labels.isEmpty, ensemble.members[0].outputShape == [model.labels.count] else {
            throw StageError("sequence.classify", "\(path): a \(model.task) model with input \(model.inputShape), not a sequence classifier")
        }
        let name = model.preprocessing[FeatureNormalization.key] ?? "none"
        guard let n = FeatureNormalization(rawValue: name) else {
            throw StageError("sequence.classify", "\(path): metadata 'preprocessing' asks for normalisation '\(name)', which this dlpipe does not know")
        }
        normalization = n
        classes = model.labels
        topK = min(o.int("top_k"), classes.count)
        batchSize = o.int("batch_size")
    }

    static let spec = StageSpec(
        name: "sequence.classify", summary: "Classify feature sequences (audio.mfcc, audio.melspec) with a model trained by sequence.train",
        consumes: [.features], produces: .prediction,
        options: [
            OptionSpec("model", .path, required: true, doc: "model file written by sequence.train"),
            ClassifierEnsemble.option(trainer: "sequence.train"),
            OptionSpec("top_k", .int(1...1000), default: .int(3), doc: "how many most likely labels to report"),
            OptionSpec("batch_size", .int(1...4096), default: .int(64), doc: "sequences per forward pass"),
        ],
        serving: .perItem,
        make: { try SequenceClassify($0) })

    var featureWidth: Int { ensemble.model.inputShape[1] }

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let f = item.features else { return }
        guard f.rank == 2, f.shape[0] >= 1, f.shape[1] == featureWidth else {
            try ctx.fail(item.file, "features \(f.shape) do not fit the model, which takes [frames, \(featureWidth)] (use the feature settings the model was trained with: \(featureWidth) per frame)")
            return
        }
        pending.append(item)
        if pending.count >= batchSize { try flush(ctx, emit) }
    }

    func finish(_ ctx: RunContext, emit: Emit) throws { try flush(ctx, emit) }

    func flush(_ ctx: RunContext, _ emit: Emit) throws {
        guard !pending.isEmpty else { return }
        let sequences = pending.map { normalization.apply($0.features!) }
        let logits = ensemble.logits { Inference.evaluate($0, sequences: sequences, batch: batchSize) }
        for (var it, p) in zip(pending, Prediction.ranked(logits, classes: classes, topK: topK)) {
            it.prediction = p
            it.features = nil
            ctx.countSuccess(it.file)
            try emit(it)
        }
        pending.removeAll(keepingCapacity: true)
    }
}

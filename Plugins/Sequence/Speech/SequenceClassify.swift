// sequence.classify: predicts a label (with top-k probabilities) for every feature sequence, with a
// model from sequence.train, preparing each sequence as the model file records. Sequences are
// gathered and run in padded batches of similar lengths.
import Foundation
import Tensor
import NN
import Pipeline
import Training

final class SequenceClassify: Stage {
    let options: ClassifyOptions
    let featureWidth: Int
    let batcher: PredictionBatcher

    init(_ o: StageOptions) throws {
        options = try o.decode(ClassifyOptions.self)
        let path = options.model
        let ensemble = try ClassifierEnsemble.load(
            model: path, others: options.ensemble, for: "sequence.classify", trainer: "sequence.train")
        let model = ensemble.model
        guard model.inputShape.count == 2, !model.labels.isEmpty,
            ensemble.members[0].outputShape == [model.labels.count]
        else {
            throw StageError(
                "sequence.classify",
                "\(path): a \(model.task) model with input \(model.inputShape), not a sequence classifier")
        }
        let name = model.preprocessing[FeatureNormalization.key] ?? "none"
        guard let normalization = FeatureNormalization(rawValue: name) else {
            throw StageError(
                "sequence.classify",
                "\(path): metadata 'preprocessing' asks for normalisation '\(name)', which this dlpipe does not know")
        }
        featureWidth = model.inputShape[1]
        let classes = model.labels, topK = min(options.topK, classes.count), batch = options.batchSize
        batcher = PredictionBatcher(
            batchSize: batch,
            predict: { items in
                let sequences = items.map { normalization.apply($0.features!) }
                let logits = ensemble.logits { Inference.evaluate($0, sequences: sequences, batch: batch) }
                return Prediction.ranked(logits, classes: classes, topK: topK)
            }, release: { $0.features = nil })
    }

    static let spec = StageSpec(
        name: "sequence.classify",
        summary: "Classify feature sequences (audio.mfcc, audio.melspec) with a model trained by sequence.train",
        consumes: [.features], produces: .prediction,
        options: ClassifyOptions.options(trainer: "sequence.train", batchSize: 64, unit: "sequences"),
        serving: .perItem,
        make: { try SequenceClassify($0) })

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let f = item.features else { return }
        guard f.rank == 2, f.shape[0] >= 1, f.shape[1] == featureWidth else {
            try ctx.fail(
                item.file,
                "features \(f.shape) do not fit the model, which takes [frames, \(featureWidth)] (use the feature settings the model was trained with: \(featureWidth) per frame)"
            )
            return
        }
        try batcher.add(item, ctx, emit)
    }

    func finish(_ ctx: RunContext, emit: Emit) throws { try batcher.flush(ctx, emit) }
}

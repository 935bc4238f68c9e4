// vision.classify: predicts a label (with top-k probabilities) for every image item, in batches.
import Foundation
import Tensor
import NN
import Media
import Pipeline
import Training

final class VisionClassify: Stage {
    let options: ClassifyOptions
    let ensemble: ClassifierEnsemble
    let batcher: PredictionBatcher

    init(_ o: StageOptions) throws {
        options = try o.decode(ClassifyOptions.self)
        let ensemble = try ClassifierEnsemble.load(
            model: options.model, others: options.ensemble, for: "vision.classify", trainer: "vision.train")
        let model = ensemble.model
        guard model.inputShape.count == 3, !model.labels.isEmpty else {
            throw StageError("vision.classify", "\(options.model): a \(model.task) model, not an image classifier")
        }
        let shape = model.inputShape, classes = model.labels, topK = min(options.topK, classes.count)
        self.ensemble = ensemble
        batcher = PredictionBatcher(batchSize: options.batchSize) { items in
            let x = try ImagePacker.pack(items.map { $0.image! }, shape: shape)
            return Prediction.ranked(ensemble.logits { Inference.run($0, x) }, classes: classes, topK: topK)
        }
    }

    static let spec = StageSpec(
        name: "vision.classify", summary: "Classify images with a model trained by vision.train",
        consumes: [.image], produces: .prediction,
        options: ClassifyOptions.options(trainer: "vision.train", batchSize: 256, unit: "images"),
        serving: .perItem,
        make: { try VisionClassify($0) })

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let img = item.image else { return }
        if let problem = ImagePacker.problem(img, shape: ensemble.model.inputShape) {
            try ctx.fail(item.file, problem)
            return
        }
        try batcher.add(item, ctx, emit)
    }

    func finish(_ ctx: RunContext, emit: Emit) throws { try batcher.flush(ctx, emit) }
}

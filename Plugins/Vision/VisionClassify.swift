// vision.classify: predicts a label (with top-k probabilities) for every image item, in batches.
import Foundation
import Tensor
import NN
import Media
import Pipeline
import Training

final class VisionClassify: Stage {
    let ensemble: ClassifierEnsemble
    let classes: [String]
    let topK: Int, batchSize: Int
    var pending: [Item] = []

    init(_ o: StageOptions) throws {
        ensemble = try ClassifierEnsemble.load(model: o.string("model"), others: o.strings("ensemble"), for: "vision.classify", trainer: "vision.train")
        let model = ensemble.model
        guard model.inputShape.count == 3, !model.labels.isEmpty else {
            throw StageError("vision.classify", "\(o.string("model")): a \(model.task) model, not an image classifier")
        }
        classes = model.labels
        topK = min(o.int("top_k"), classes.count)
        batchSize = o.int("batch_size")
    }

    static let spec = StageSpec(
        name: "vision.classify", summary: "Classify images with a model trained by vision.train",
        consumes: [.image], produces: .prediction,
        options: [
            OptionSpec("model", .path, required: true, doc: "model file written by vision.train"),
            ClassifierEnsemble.option(trainer: "vision.train"),
            OptionSpec("top_k", .int(1...1000), default: .int(3), doc: "how many most likely labels to report"),
            OptionSpec("batch_size", .int(1...4096), default: .int(256), doc: "images per forward pass"),
        ],
        serving: .perItem,
        make: { try VisionClassify($0) })

    var inputShape: [Int] { ensemble.model.inputShape }

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let img = item.image else { return }
        if let problem = ImagePacker.problem(img, shape: inputShape) {
            try ctx.fail(item.file, problem)
            return
        }
        pending.append(item)
        if pending.count >= batchSize { try flush(ctx, emit) }
    }

    func finish(_ ctx: RunContext, emit: Emit) throws { try flush(ctx, emit) }

    func flush(_ ctx: RunContext, _ emit: Emit) throws {
        guard !pending.isEmpty else { return }
        let x = try ImagePacker.pack(pending.map { $0.image! }, shape: inputShape)
        let predictions = Prediction.ranked(ensemble.logits { Inference.run($0, x) }, classes: classes, topK: topK)
        for (var it, p) in zip(pending, predictions) {
            it.prediction = p
            ctx.countSuccess(it.file)
            try emit(it)
        }
        pending.removeAll(keepingCapacity: true)
    }
}

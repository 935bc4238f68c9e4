// The options every classify stage (vision.classify, sequence.classify) shares, declared and parsed once.
import Pipeline

public struct ClassifyOptions: Decodable {
    enum CodingKeys: String, CodingKey, OptionKey { case model, ensemble, topK = "top_k", batchSize = "batch_size" }

    public let model: String
    /// More models whose class probabilities are averaged with the model's.
    public let ensemble: [String]
    public let topK: Int, batchSize: Int

    /// The specs: models from `trainer`, `batchSize` `unit` per forward pass by default.
    public static func options(trainer: String, batchSize: Int, unit: String) -> [OptionSpec] {
        [
            OptionSpec(CodingKeys.model, .path, required: true, doc: "model file written by \(trainer)"),
            ClassifierEnsemble.option(trainer: trainer),
            OptionSpec(CodingKeys.topK, .int(1...1000), default: .int(3), doc: "how many most likely labels to report"),
            OptionSpec(CodingKeys.batchSize, .int(1...4096), default: .int(batchSize), doc: "\(unit) per forward pass"),
        ]
    }
}

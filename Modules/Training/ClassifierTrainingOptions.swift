// The options every classifier-training stage (vision.train, sequence.train) shares, declared and parsed
// once: the model file, the layer list, the loop and optimizer, the validation fraction, the report files
// and the held-out accuracy a run must reach. A stage splices the specs around its own and keeps one value
// of this type.
import Foundation
import Tensor
import NN
import Pipeline

public struct ClassifierTrainingOptions {
    enum Key: String, OptionKey {
        case model, layers, validationSplit = "validation_split", metrics, report, minTestAccuracy = "min_test_accuracy"
    }

    public let stage: String
    /// The stage's place in the config, for errors about the options as a whole.
    public let position: SourcePosition
    public let model: String
    public let layers: [LayerSpec]
    /// Where `layers` is written (the stage's place when the default is used).
    public let layersPosition: SourcePosition
    public internal(set) var loop: LoopSettings
    public let optimizer: OptimizerSettings
    public let validationSplit: Double
    public let metrics: String?, report: String?
    public let minTestAccuracy: Double
    /// The memory limit of the run and, when the stages before fix it, one example's shape.
    public let memoryLimit: Int
    public let inputShape: [Int]?

    public init(_ o: StageOptions, defaultLayers: [LayerSpec]) throws {
        stage = o.stage
        position = o.position
        model = o.string(Key.model)
        layers = try o.node(Key.layers).map(LayerListParser.parse) ?? defaultLayers
        layersPosition = o.position(of: Key.layers)
        loop = LoopSettings(o, model: model)
        optimizer = OptimizerSettings(o)
        validationSplit = o.float(Key.validationSplit)
        metrics = o.optionalString(Key.metrics)
        report = o.optionalString(Key.report)
        minTestAccuracy = o.float(Key.minTestAccuracy)
        memoryLimit = o.memoryLimit
        inputShape = o.inputShape
    }

    /// `model` and `layers`, then the loop and optimizer options: the head of the stage's schema.
    public static func headOptions(layersExample: String) -> [OptionSpec] {
        [
            OptionSpec(Key.model, .outputFile, required: true, doc: "where to write the trained model (.safetensors)"),
            OptionSpec(
                Key.layers, .custom(summary: "layer list", validate: { _ = try LayerListParser.parse($0) }),
                doc: "network, e.g. \(layersExample); the output layer is added"),
        ] + LoopSettings.options() + OptimizerSettings.options()
    }

    /// `validation_split` (described by `validationDoc`), the report files and `min_test_accuracy`: the tail.
    public static func tailOptions(validationDoc: String) -> [OptionSpec] {
        [
            OptionSpec(Key.validationSplit, .float(0...0.9), default: .float(0), doc: validationDoc),
            OptionSpec(Key.metrics, .outputFile, doc: "write metrics.json here"),
            OptionSpec(Key.report, .outputFile, doc: "write report.html here"),
            OptionSpec(
                Key.minTestAccuracy, .float(0...1), default: .float(0),
                doc: "fail the run if held-out accuracy is below this"),
        ]
    }
}

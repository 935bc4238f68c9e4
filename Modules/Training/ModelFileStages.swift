// What the stages do with model files, once for every plugin: a training stage writes its model with the
// report's metrics.json and report.html, committed together (all or none); a using stage loads one, with a
// hint when it does not exist yet, and turns its logits into ranked predictions.
import Foundation
import Tensor
import NN
import Pipeline
import FilesAndText

extension ModelFile {
    /// A network, its description and where it goes: one of the models a training stage writes.
    public struct Output {
        /// One network, or an ensemble's members (the description's `members` says how many).
        public let networks: [Network], description: ModelFile, path: String
        public init(_ network: Network, _ description: ModelFile, to path: String) {
            self.init(members: [network], description, to: path)
        }
        public init(members: [Network], _ description: ModelFile, to path: String) {
            networks = members
            var d = description
            d.members = members.count
            self.description = d
            self.path = path
        }
    }

    /// Writes `nets` (one network or an ensemble's members) with this description to `path`, with the
    /// report's files beside it, atomically as a set.
    public func writeTogether(
        _ nets: [Network], to path: String, report: TrainingReport, metrics: String?, html: String?,
        stage: String, ctx: RunContext
    ) throws {
        try Self.writeTogether(
            [Output(members: nets, self, to: path)], report: report, metrics: metrics, html: html, stage: stage,
            ctx: ctx)
    }

    /// Writes every model, the report's files and any `extra` files (a sample grid) atomically as a set:
    /// all of them or none.
    public static func writeTogether(
        _ models: [Output], extra: [(path: String, data: Data)] = [], report: TrainingReport,
        metrics: String?, html: String?, stage: String, ctx: RunContext
    ) throws {
        let files =
            models.map {
                ($0.path, Safetensors.encode(ModelFile.tensors(of: $0.networks), metadata: $0.description.metadata))
            }
            + report.files(metrics: metrics, html: html) + extra
        do {
            for f in files { try makeParentFolder(f.0) }
            try writeFilesTogether(files)
        } catch { throw StageError(stage, "\(error)") }
        ctx.progress.info("wrote " + files.map { $0.0 }.joined(separator: ", "))
    }
}

extension ModelFile {
    /// The model a using stage (classify, generate) names, or an error for that stage. A file that does not
    /// exist yet gets one wording for every stage: what to run first.
    public static func load(_ path: String, for stage: String, trainer: String) throws -> (Network, ModelFile) {
        guard FileManager.default.fileExists(atPath: path) else { throw missing(path, for: stage, trainer: trainer) }
        do { return try load(path) } catch { throw StageError(stage, "\(error)") }
    }

    /// Every network of the model a classify stage names (one, or an ensemble's members).
    public static func loadMembers(_ path: String, for stage: String, trainer: String) throws -> ([Network], ModelFile)
    {
        guard FileManager.default.fileExists(atPath: path) else { throw missing(path, for: stage, trainer: trainer) }
        do { return try loadMembers(path) } catch { throw StageError(stage, "\(error)") }
    }

    /// The error for a model file that does not exist yet.
    public static func missing(_ path: String, for stage: String, trainer: String) -> StageError {
        StageError(stage, "\(path): no model file there yet; train one first with a \(trainer) pipeline")
    }
}

extension Prediction {
    /// Each row of `logits` [N, C] as a prediction: the `topK` most likely of `classes` with their softmax
    /// probabilities, and the raw logits.
    public static func ranked(_ logits: Tensor, classes: [String], topK: Int) -> [Prediction] {
        let probs = Autograd.noGrad { logits.softmax() }
        let c = classes.count
        return (0..<logits.shape[0]).map { i in
            let row = Array(UnsafeBufferPointer(start: probs.data + i * c, count: c))
            let top = row.enumerated().sorted { $0.element > $1.element }.prefix(topK).map {
                (label: classes[$0.offset], probability: $0.element)
            }
            return Prediction(
                label: top[0].label, confidence: top[0].probability, top: top,
                logits: Array(UnsafeBufferPointer(start: logits.data + i * c, count: c)))
        }
    }
}

// text.generate: writes text from a model trained by text.train — an optional prompt, then `length`
// characters drawn one at a time (temperature, top-k, seed; the same seed gives the same text). The
// .txt file is written atomically.
import Foundation
import Tensor
import Pipeline
import Training
import FilesAndText

/// text.generate's options, parsed once.
struct TextGenerateOptions: Decodable {
    enum CodingKeys: String, CodingKey, OptionKey {
        case model, output, length, temperature, topK = "top_k", seed, prompt, logits
    }

    let model: String, output: String
    let length: Int, temperature: Double, topK: Int, seed: Int
    /// Text the model continues (nil: none).
    let prompt: String?
    /// Where to write the logits of the prompt's characters, if anywhere.
    let logits: String?

    static let specs: [OptionSpec] = [
        OptionSpec(CodingKeys.model, .path, required: true, doc: "model file written by text.train"),
        OptionSpec(CodingKeys.output, .outputFile, required: true, doc: "where to write the text (atomically)"),
        OptionSpec(
            CodingKeys.length, .int(1...10_000_000), default: .int(1000), doc: "characters to generate after the prompt"
        ),
        OptionSpec(
            CodingKeys.temperature, .float(0.01...10), default: .float(0.8),
            doc: "below 1: safer, more repetitive; above 1: more surprising"),
        OptionSpec(
            CodingKeys.topK, .int(0...100_000), default: .int(0),
            doc: "draw only among the k most likely characters (0 = all)"
        ),
        OptionSpec(
            CodingKeys.seed, .int(0...Int(Int32.max)), default: .int(1),
            doc: "random seed: the same seed gives the same text"),
        OptionSpec(CodingKeys.prompt, .string, doc: "text the model continues (written first)"),
        OptionSpec(
            CodingKeys.logits, .outputFile,
            doc: "also write the model's logits at every prompt character as JSON (to check against other frameworks)"),
    ]
}

final class TextGenerate: Stage {
    let options: TextGenerateOptions
    let net: Network
    let vocabulary: Vocabulary
    let prompt: [Int32]

    init(_ o: StageOptions) throws {
        options = try o.decode(TextGenerateOptions.self)
        let path = options.model
        let model: ModelFile
        (net, model) = try ModelFile.load(path, for: "text.generate", trainer: "text.train")
        // Generation carries each layer's state from character to character: a backward direction has none.
        let bidirectional = model.layers.contains { if case .recurrent(let r) = $0 { r.bidirectional } else { false } }
        guard model.task == "text.train", let v = Vocabulary(labels: model.labels), model.inputShape.count == 1,
            net.outputShape.count == 2, net.outputShape[1] == v.count, !bidirectional
        else {
            throw StageError(
                "text.generate",
                "\(path): a \(model.task) model\(bidirectional ? " with a bidirectional layer" : ""), "
                    + "not a character model from text.train")
        }
        vocabulary = v
        let text = options.prompt ?? ""
        let encoded = v.encode(text)
        guard encoded.unknown == 0 else {
            let missing = text.unicodeScalars.filter { v.ids[$0] == nil }.map {
                "'\(String($0).debugDescription.dropFirst().dropLast())'"
            }
            throw ConfigError(
                o.position,
                "text.generate: the prompt uses characters the model never saw: \(Set(missing).sorted().joined(separator: ", "))"
            )
        }
        prompt = encoded.ids
    }

    static let spec = StageSpec(
        name: "text.generate",
        summary: "Generate text with a character model from text.train and write it to a .txt file",
        consumes: [.none], produces: .none, options: TextGenerateOptions.specs, make: { try TextGenerate($0) })

    func start(_ ctx: RunContext, emit: Emit) throws {
        var rng = SeededRandom(seed: UInt64(options.seed))
        let sampler = CharacterSampler(net: net, vocabulary: vocabulary)
        let task = ctx.progress.task("text.generate", total: options.length, unit: "characters")
        let ids = try sampler.generate(
            prompt: prompt, length: options.length, temperature: options.temperature, topK: options.topK,
            rng: &rng
        ) { done in
            try ctx.checkCancelled()
            task.update(done, [])
        }
        task.finish(ids.count, [])
        let text = vocabulary.decode(prompt) + vocabulary.decode(ids)
        let path = options.output
        do {
            try makeParentFolder(path)
            try writeFileAtomically(Data(text.utf8), to: path)
        } catch { throw writeFailure("text.generate", path, error) }
        ctx.progress.info("wrote \(ids.count) generated characters to \(path)")
        if let logitsPath = options.logits { try writeLogits(to: logitsPath) }
    }

    /// {"logits": [[…V…] per prompt character]}: the outputs for the whole prompt in one pass.
    func writeLogits(to path: String) throws {
        guard !prompt.isEmpty else { throw StageError("text.generate", "logits: needs a prompt to score") }
        net.eval()
        let out = Autograd.noGrad { net(Tensor(prompt.map(Float.init), shape: [1, prompt.count])) }
        let v = vocabulary.count
        let rows = (0..<prompt.count).map { i in
            "[" + (0..<v).map { jsonNumber(Double(out.data[i * v + $0]), format: "%.9g") }.joined(separator: ",") + "]"
        }
        let json = "{\"logits\": [\n" + rows.joined(separator: ",\n") + "\n]}\n"
        do {
            try makeParentFolder(path)
            try writeFileAtomically(Data(json.utf8), to: path)
        } catch { throw writeFailure("text.generate", path, error) }
    }
}

// text.train: trains a character-level language model on the texts it receives (split "train"), by
// truncated backpropagation through time: each training text is one stream of characters, cut into
// batch_size parts read side by side, window characters per step, the LSTM/GRU state carried from
// step to step. The end of each training text (validation_split) is held out to track bits per
// character per epoch; "test" texts are never trained on and give the final held-out figure.
import Foundation
import Tensor
import NN
import Pipeline
import Training
import FilesAndText

/// text.train's options, parsed once.
struct TextTrainOptions: Decodable {
    enum CodingKeys: String, CodingKey, OptionKey {
        case model, cell, embedding, hidden, layers, window, validationSplit = "validation_split"
        case sampleLength = "sample_length", metrics, report, curveEvery = "curve_every"
    }

    let model: String
    let cell: String
    let embedding: Int, hidden: Int, layers: Int
    /// Characters per step: gradients flow back this far, the state further.
    let window: Int
    /// Fraction at the end of each training text held out to track per epoch.
    let validationSplit: Double
    let sampleLength: Int
    let metrics: String?, report: String?
    /// Steps between the report's within-epoch points (0: per epoch only).
    let curveEvery: Int

    var shape: CharacterModelShape {
        CharacterModelShape(cell: Recurrent.Kind(rawValue: cell)!, embedding: embedding, hidden: hidden, layers: layers)
    }

    static let specs: [OptionSpec] =
        [
            OptionSpec(
                CodingKeys.model, .outputFile, required: true, doc: "where to write the trained model (.safetensors)"),
            OptionSpec(CodingKeys.cell, .choice(["lstm", "gru"]), default: .string("lstm"), doc: "recurrent cell"),
            OptionSpec(
                CodingKeys.embedding, .int(LayerLimits.embeddingSize), default: .int(64),
                doc: "size of each character's vector"),
            OptionSpec(
                CodingKeys.hidden, .int(LayerLimits.hidden), default: .int(256), doc: "units per recurrent layer"),
            OptionSpec(
                CodingKeys.layers, .int(LayerLimits.recurrentLayers), default: .int(2), doc: "stacked recurrent layers"),
            OptionSpec(
                CodingKeys.window, .int(1...10_000), default: .int(100),
                doc: "characters per step: gradients flow back this far, the state further"),
        ]
        + LoopSettings.options(defaults: LoopSettings(epochs: 4, batchSize: 32))
        + OptimizerSettings.options(defaults: OptimizerSettings(learningRate: 0.002, clipNorm: 1)) + [
            OptionSpec(
                CodingKeys.validationSplit, .float(0...0.5), default: .float(0.05),
                doc: "fraction at the end of each training text held out to track per epoch"),
            OptionSpec(
                CodingKeys.sampleLength, .int(0...100_000), default: .int(400),
                doc: "characters of sample text in the report"),
            OptionSpec(
                CodingKeys.curveEvery, .int(0...1_000_000), default: .int(200),
                doc:
                    "every this many steps, add a point to the report's curve: training bits per character since the last point, and validation bits per character on the first \(TextTrain.curveCharacters) validation characters (0 = per epoch only)"
            ),
            OptionSpec(CodingKeys.metrics, .outputFile, doc: "write metrics.json here"),
            OptionSpec(CodingKeys.report, .outputFile, doc: "write report.html here"),
        ]
}

final class TextTrain: Stage {
    /// Validation characters each curve point reads.
    static let curveCharacters = 20_000
    let options: TextTrainOptions
    let loop: LoopSettings
    let optimizer: OptimizerSettings
    let memoryLimit: Int
    var window: Int { options.window }
    var train: [String] = [], test: [String] = [], files: [String] = []

    init(_ o: StageOptions) throws {
        options = try o.decode(TextTrainOptions.self)
        loop = LoopSettings(o, model: options.model)
        optimizer = OptimizerSettings(o)
        memoryLimit = o.memoryLimit
    }

    static let spec = StageSpec(
        name: "text.train",
        summary: "Train a character-level LSTM/GRU language model (truncated BPTT); report held-out bits per character",
        consumes: [.text], produces: .none, options: TextTrainOptions.specs, make: { try TextTrain($0) })

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let text = item.text else { return }
        if item.split == .test {
            test.append(text)
        } else {
            train.append(text)
            files.append(item.file)
        }
        ctx.countSuccess(item.file)
    }

    struct Streams {
        let train: [Int32]
        let validation: [Int32]
        let test: [Int32]
        let unknownInTest: Int
    }

    func finish(_ ctx: RunContext, emit: Emit) throws {
        guard !train.isEmpty else { throw StageError("text.train", "no training text arrived") }
        let vocabulary = Vocabulary(of: train)
        guard vocabulary.count >= 2 else {
            throw StageError("text.train", "the training text has fewer than 2 distinct characters")
        }
        let data = try streams(vocabulary)
        let net = try buildNetwork(vocabulary)
        ctx.progress.info(
            "text.train: \(data.train.count) training characters, \(data.validation.count) validation, \(data.test.count) test, \(vocabulary.count) distinct"
        )
        ctx.progress.info(net.summaryTable())

        let group = ParameterGroup("model", parameters: net.parameters, settings: optimizer)
        let training = TrainingLoop(
            stage: "text.train", settings: loop, networks: [("model", net)], groups: [group],
            fingerprint: fingerprint(net, vocabulary), random: SeededRandom(seed: UInt64(loop.seed)),
            report: newReport(net, vocabulary), ctx: ctx)
        try training.resumeIfAsked()
        let curve = try ValidationCurve(net, validation: data.validation, every: options.curveEvery)
        try training.run { e in
            try epoch(
                e, net, group, data, offset: training.random.nextInt(window), curve: curve,
                record: { training.report.curve.append($0) }, ctx: ctx, lastCheckpoint: training.lastCheckpoint)
        }
        var report = training.report
        evaluateTest(net, vocabulary, data, ctx, &report)
        try writeOutputs(net, vocabulary, report, ctx)
    }

    /// Training, validation and test ids. Validation is the end of each training text.
    func streams(_ vocabulary: Vocabulary) throws -> Streams {
        var t: [Int32] = [], v: [Int32] = []
        for text in train {
            let ids = vocabulary.encode(text).ids
            let cut = ids.count - Int(Double(ids.count) * options.validationSplit)
            t += ids[..<cut]
            v += ids[cut...]
        }
        guard t.count > loop.batchSize * (window + 1) else {
            throw StageError(
                "text.train",
                "\(t.count) training characters are too few for batch_size \(loop.batchSize) × window \(window)")
        }
        var test: [Int32] = [], unknown = 0
        for text in self.test {
            let e = vocabulary.encode(text)
            test += e.ids
            unknown += e.unknown
        }
        return Streams(train: t, validation: v, test: test, unknownInTest: unknown)
    }

    func buildNetwork(_ vocabulary: Vocabulary) throws -> Network {
        let layers = options.shape.layers(vocabulary: vocabulary.count)
        do {
            try MemoryEstimate.of(layers, input: [window]).checkTraining(
                batch: loop.batchSize, limit: memoryLimit)
            return try Network(layers: layers, inputShape: [window], seed: UInt64(loop.seed))
        } catch let e as NetworkError { throw StageError("text.train", e.message) }
    }

    /// One pass over the training streams, the state carried from step to step.
    func epoch(
        _ e: Int, _ net: Network, _ group: ParameterGroup, _ data: Streams, offset: Int, curve: ValidationCurve?,
        record: ([Metric]) -> Void, ctx: RunContext, lastCheckpoint: @autoclosure () -> String?
    ) throws -> [Metric] {
        let source = TokenStreams(tokens: data.train, streams: loop.batchSize, window: window, offset: offset)
        let task = ctx.progress.task("epoch \(e + 1)/\(loop.epochs)", total: source.count, unit: "steps")
        net.train()
        net.carryRecurrentState(true)
        defer { net.carryRecurrentState(false) }
        let t0 = Date()
        var nats = 0.0, seen = 0, step = 0
        for b in BatchLoader(source, batchSize: 1, shuffle: false) {
            try ctx.checkCancelled()
            group.zeroGrad()
            let logits = net(b.inputs)
            let loss = Loss.crossEntropy(logits.reshaped([b.targets.count, -1]), labels: b.targets)
            try FiniteLossGuard.check(loss.item, epoch: e, step: step, lastCheckpoint: lastCheckpoint())
            loss.backward()
            group.step()
            nats += Double(loss.item) * Double(b.targets.count)
            seen += b.targets.count
            step += 1
            if let point = curve?.add(
                step: e * source.count + step, nats: Double(loss.item) * Double(b.targets.count),
                characters: b.targets.count)
            {
                record(point)
            }
            if step % 10 == 0 || step == source.count {
                task.update(step, [("bpc", String(format: "%.3f", nats / Double(seen) / log(2)))])
            }
        }
        let secs = Date().timeIntervalSince(t0)
        var m = [
            Metric("loss", nats / Double(max(seen, 1))), Metric("bits_per_char", nats / Double(max(seen, 1)) / log(2)),
            Metric("chars_per_s", Double(seen) / max(secs, 1e-9)),
        ]
        var shown = [("bpc", String(format: "%.3f", m[1].value)), ("chars/s", String(Int(m[2].value)))]
        if let v = BitsPerCharacter.of(net, tokens: data.validation) {
            m.append(Metric("validation_bits_per_char", v))
            shown.append(("val_bpc", String(format: "%.3f", v)))
        }
        task.finish(step, shown)
        return m
    }

    func fingerprint(_ net: Network, _ vocabulary: Vocabulary) -> TrainingFingerprint {
        let settings = [
            optimizer.kind.rawValue, "\(optimizer)", "batch \(loop.batchSize)", "window \(window)",
            "seed \(loop.seed)",
            "validation \(options.validationSplit)",
        ]
        return TrainingFingerprint(
            network: LayerSpec.json(net.layers), data: files.joined(separator: "\n") + "\(train.map { $0.utf8.count })",
            settings: settings.joined(separator: "\n"))
    }

    func newReport(_ net: Network, _ vocabulary: Vocabulary) -> TrainingReport {
        var r = TrainingReport(title: "dlpipe text.train — \(URL(fileURLWithPath: options.model).lastPathComponent)")
        r.networks = [("model", net.summary)]
        r.settings =
            [
                ("model", "\(options.shape)"), ("streams (batch size)", "\(loop.batchSize)"),
                ("window", "\(window) characters"),
                ("seed", "\(loop.seed)"),
            ] + optimizer.summary
            + [
                ("vocabulary", "\(vocabulary.count) characters"),
                ("validation", "last \(options.validationSplit) of each training text"),
                ("threads", "\(Parallel.threads)"),
            ]
        return r
    }

    /// Held-out bits per character on the test texts, and a sample of generated text.
    func evaluateTest(
        _ net: Network, _ vocabulary: Vocabulary, _ data: Streams, _ ctx: RunContext, _ report: inout TrainingReport
    ) {
        let bpc = BitsPerCharacter.of(net, tokens: data.test)
        report.results = [
            ("test_bits_per_char", bpc.map { jsonNumber($0, format: "%.6g") } ?? "null"),
            ("test_characters", "\(data.test.count)"), ("test_unknown_characters", "\(data.unknownInTest)"),
            ("vocabulary", "\(vocabulary.count)"),
        ]
        if let bpc {
            report.headline = String(
                format: "Held-out: %.3f bits per character on %d characters · training %.1f s · %d epochs",
                bpc, data.test.count, report.trainSeconds, report.epochs.count)
            ctx.progress.info(
                String(
                    format: "held-out bits per character: %.3f (%d characters; %d not in the vocabulary left out)", bpc,
                    data.test.count, data.unknownInTest))
        }
        if options.sampleLength > 0 {
            var rng = SeededRandom(seed: UInt64(loop.seed))
            let ids = CharacterSampler(net: net, vocabulary: vocabulary).generate(
                prompt: [], length: options.sampleLength, temperature: 0.8, topK: 0, rng: &rng
            ) { _ in }
            report.sections.append(
                .text(title: "Sample (temperature 0.8)", vocabulary.decode(ids).components(separatedBy: "\n")))
        }
    }

    func writeOutputs(_ net: Network, _ vocabulary: Vocabulary, _ report: TrainingReport, _ ctx: RunContext) throws {
        let model = ModelFile(
            task: "text.train", layers: net.layers, inputShape: [window], labels: vocabulary.labels,
            preprocessing: ["input": "character ids (the labels, in order) of a window of any length"])
        try model.withResults(of: report).writeTogether(
            [net], to: options.model, report: report, metrics: options.metrics, html: options.report,
            stage: "text.train", ctx: ctx)
    }
}

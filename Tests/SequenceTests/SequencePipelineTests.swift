// End to end through the pipeline runner on generated clips: three "words" (tones of different pitch
// with a glide) said by three "speakers" (each shifts every pitch); two speakers train, the third is
// held out. Train, check the per-speaker metrics and the model file, classify a folder with a corrupt
// clip, and check augmentation copies only training clips.
import XCTest
import TestSupport
import Tensor
import Media
import NN
@testable import Pipeline
@testable import Training
@testable import Sequence

let sequenceRegistry: StageRegistry = {
    let r = StageRegistry()
    registerBuiltinStages(r)
    registerSequenceStages(r)
    return r
}()

final class SequencePipelineTests: ScratchFolderTestCase {
    func run(_ conf: String) throws -> RunSummary { try runPipeline(conf, registry: sequenceRegistry) }

    let words = ["low": 300.0, "mid": 650.0, "high": 1400.0]
    let speakers = ["alice": 0.9, "bob": 1.1, "carol": 1.0]

    /// clips/<split>/<word>/<word>_<speaker>_<take>.wav, 0.2–0.4 s at 8 kHz.
    func makeClips(takes: Int = 8) throws {
        var rng = SeededRandom(seed: 5)
        // In name order: a dictionary's order changes from process to process, and with it which random
        // numbers each clip gets.
        for (word, f0) in words.sorted(by: { $0.key < $1.key }) {
            for (speaker, shift) in speakers.sorted(by: { $0.key < $1.key }) {
                let folder = "\(dir!)/clips/\(speaker == "carol" ? "test" : "train")/\(word)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for take in 0..<takes {
                    let n = 1600 + rng.nextInt(1600), f = f0 * shift * Double(0.95 + 0.1 * rng.nextFloat())
                    let samples = (0..<n).map { i -> Float in
                        let t = Double(i) / 8000
                        return Float(0.5 * sin(2 * .pi * f * t * (1 + 0.3 * t))) + 0.01 * rng.nextNormal()
                    }
                    try Audio.writeWAV(
                        AudioClip(samples: samples, sampleRate: 8000), to: "\(folder)/\(word)_\(speaker)_\(take).wav")
                }
            }
        }
    }

    let features = "  - audio.mfcc: {n_mfcc: 13, n_fft: 256, hop_length: 80, n_mels: 26}\n"

    func train(layers: String = "[{lstm: {hidden: 16, layers: 1}}]") throws -> RunSummary {
        try run(
            """
            stages:
              - read.audio: {train: clips/train, test: clips/test, sample_rate: 8000}
            \(features)  - sequence.train:
                  model: out/words.safetensors
                  layers: \(layers)
                  epochs: 25
                  batch_size: 8
                  learning_rate: 0.01
                  time_masks: 1
                  time_mask_frames: 3
                  validation_speakers: [bob]
                  seed: 2
                  metrics: out/metrics.json
                  report: out/report.html
            """)
    }

    func testTrainsOnTwoSpeakersAndReportsTheHeldOutOnePerSpeaker() throws {
        try makeClips()
        let summary = try train()
        XCTAssertEqual(summary.failures.count, 0)
        XCTAssertEqual(summary.succeeded, 72)
        let metrics =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/metrics.json")))
            as! [String: Any]
        let bySpeaker = metrics["test_accuracy_by_speaker"] as! [String: [String: Any]]
        XCTAssertEqual(Array(bySpeaker.keys), ["carol"])
        XCTAssertEqual(bySpeaker["carol"]?["count"] as? Int, 24)
        let acc = metrics["test_accuracy"] as! Double
        print("tiny LSTM, 3 tone words, held-out speaker: accuracy \(acc)")
        XCTAssertGreaterThan(acc, 0.8)  // chance is 1/3
        // Validation came from bob, a training speaker, every epoch.
        let epochs = metrics["epochs"] as! [[String: Any]]
        XCTAssertEqual(epochs.count, 25)
        XCTAssertNotNil(epochs.last?["validation_accuracy"] as? Double)
        let html = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("Held-out accuracy per speaker") && html.contains("Confusion matrix"))
        let (net, model) = try ModelFile.load(dir + "/out/words.safetensors")
        XCTAssertEqual(model.labels, ["high", "low", "mid"])
        XCTAssertEqual(model.preprocessing["normalize"], "clip")
        XCTAssertEqual(net.outputShape, [3])
    }

    func testClassifyReportsACorruptClipAndPredictsTheRest() throws {
        try makeClips()
        _ = try train()
        let folder = dir + "/clips/test/mid"
        try Data("RIFF....WAVEfmt garbage".utf8).write(to: URL(fileURLWithPath: folder + "/broken.wav"))
        let summary = try run(
            """
            stages:
              - read.audio: {path: clips/test, sample_rate: 8000}
            \(features)  - sequence.classify: {model: out/words.safetensors}
              - write.csv: {path: out/predictions.csv}
            """)
        XCTAssertEqual(summary.failures.map { URL(fileURLWithPath: $0.file).lastPathComponent }, ["broken.wav"])
        XCTAssertEqual(summary.succeeded, 24)
        let rows = try String(contentsOfFile: dir + "/out/predictions.csv", encoding: .utf8).split(separator: "\n")
            .dropFirst()
        XCTAssertEqual(rows.count, 24)
        let correct = rows.filter { row in
            let f = row.split(separator: ",")
            return URL(fileURLWithPath: String(f[0])).lastPathComponent.hasPrefix(String(f[1]) + "_")
        }.count
        XCTAssertGreaterThan(correct, 18)
    }

    func testABidirectionalModelTrainsAndClassifiesThroughTheStages() throws {
        // The layer option end to end: trained, written, read back by sequence.classify, same predictions
        // as the trainer's own test figure.
        try makeClips()
        _ = try train(
            layers: "[{gru: {hidden: 16, layers: 2, sequence: true, bidirectional: true}}, {mean_over_time: {}}]")
        let metrics =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/metrics.json")))
            as! [String: Any]
        let acc = try XCTUnwrap(metrics["test_accuracy"] as? Double)
        print("tiny bidirectional GRU, 3 tone words, held-out speaker: accuracy \(acc)")
        XCTAssertGreaterThan(acc, 0.7)  // chance is 1/3; 0.917 measured with AVX-512 and AVX2 kernels, 1 and 2 threads
        let (net, _) = try ModelFile.load(dir + "/out/words.safetensors")
        XCTAssertTrue(net.namedParameters().contains { $0.0 == "gru.weight_hh_l1_reverse" })
        _ = try run(
            """
            stages:
              - read.audio: {path: clips/test, sample_rate: 8000}
            \(features)  - sequence.classify: {model: out/words.safetensors}
              - write.csv: {path: out/predictions.csv}
            """)
        let rows = try String(contentsOfFile: dir + "/out/predictions.csv", encoding: .utf8).split(separator: "\n")
            .dropFirst()
        let correct = rows.filter { row in
            let f = row.split(separator: ",")
            return URL(fileURLWithPath: String(f[0])).lastPathComponent.hasPrefix(String(f[1]) + "_")
        }.count
        XCTAssertEqual(rows.count, 24)
        XCTAssertEqual(Double(correct) / 24, acc, accuracy: 1e-6, "classify agrees with the trainer's test figure")
        // Averaged with a second model (the same one with its weights scaled): each class probability is the
        // mean of the two models' probabilities.
        let (twin, description) = try ModelFile.load(dir + "/out/words.safetensors")
        for (_, p) in twin.namedParameters() { for i in 0..<p.count { p.data[i] *= 0.6 } }
        try description.save(twin, to: dir + "/out/twin.safetensors")
        func probabilities(_ options: String) throws -> [String: [String: Double]] {
            _ = try run(
                """
                stages:
                  - read.audio: {path: clips/test, sample_rate: 8000}
                \(features)  - sequence.classify: {\(options), top_k: 3}
                  - write.csv: {path: out/p.csv}
                """)
            return try predictedProbabilities(csv: dir + "/out/p.csv")
        }
        let a = try probabilities("model: out/words.safetensors"), b = try probabilities("model: out/twin.safetensors")
        let both = try probabilities("model: out/words.safetensors, ensemble: [out/twin.safetensors]")
        XCTAssertEqual(both.count, 24)
        XCTAssertNotEqual(a, b, "two different models")
        for (file, p) in both {
            XCTAssertEqual(p.count, 3)
            for (label, v) in p {
                XCTAssertEqual(v, (a[file]![label]! + b[file]![label]!) / 2, accuracy: 2e-6, "\(file) \(label)")
            }
        }
    }

    func testClassifyRefusesFeaturesOfAnotherWidth() throws {
        try makeClips(takes: 2)
        _ = try run(
            """
            stages:
              - read.audio: {train: clips/train, sample_rate: 8000}
            \(features)  - sequence.train: {model: out/w.safetensors, layers: [{lstm: {hidden: 4}}], epochs: 1}
            """)
        let summary = try run(
            """
            stages:
              - read.audio: {path: clips/test/low, sample_rate: 8000}
              - audio.mfcc: {n_mfcc: 20, n_fft: 256, hop_length: 80, n_mels: 26}
              - sequence.classify: {model: out/w.safetensors}
              - write.csv: {path: out/p.csv}
            """)
        XCTAssertEqual(summary.failures.count, 2)
        XCTAssertTrue(summary.failures[0].reason.contains("[frames, 13]"), summary.failures[0].reason)
    }

    func testAugmentCopiesOnlyTrainingClipsAndRepeatsWithTheSeed() throws {
        try makeClips(takes: 1)
        func keys() throws -> [String] {
            _ = try run(
                """
                stages:
                  - read.audio: {train: clips/train, test: clips/test, sample_rate: 8000}
                  - audio.trim: {top_db: 30}
                  - audio.augment: {copies: 2, seed: 4}
                \(features)  - write.features: {path: out/f.safetensors}
                """)
            return try Safetensors.read(dir + "/out/f.safetensors").0.map { $0.0 }.sorted()
        }
        let first = try keys()
        XCTAssertEqual(first.count, 6 * 3 + 3)  // 6 training clips and 2 copies each; 3 test clips alone
        XCTAssertEqual(first.filter { $0.contains("carol") && $0.contains("#aug") }, [])
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/out/f.safetensors"))
        XCTAssertEqual(try keys(), first)
        XCTAssertTrue(
            a == (try Data(contentsOf: URL(fileURLWithPath: dir + "/out/f.safetensors"))),
            "the same seed gives the same copies")
    }

    /// Vocal-tract-length perturbation changes the copies' features and only theirs: the first copy of each clip
    /// (whose speed, noise and shift are drawn before its warp) differs from the same copy without the option.
    func testVocalTractWarpChangesOnlyTheCopiesFeatures() throws {
        try makeClips(takes: 1)
        func written(_ extra: String) throws -> [String: Tensor] {
            _ = try run(
                """
                stages:
                  - read.audio: {train: clips/train, test: clips/test, sample_rate: 8000}
                  - audio.augment: {copies: 2, seed: 4\(extra)}
                \(features)  - write.features: {path: out/f.safetensors}
                """)
            return try Safetensors.read(dir + "/out/f.safetensors").tensors
        }
        let plain = try written(""), warped = try written(", vtlp_min: 0.8, vtlp_max: 1.2")
        XCTAssertEqual(Set(plain.keys), Set(warped.keys))
        var copies = 0
        for (name, t) in plain {
            if name.hasSuffix("#aug1") {
                copies += 1
                XCTAssertNotEqual(t.scalars, warped[name]!.scalars, name)
            } else if !name.contains("#aug") {
                XCTAssertEqual(t.scalars, warped[name]!.scalars, name)
            }
        }
        XCTAssertEqual(copies, 6)
        XCTAssertThrowsError(try written(", vtlp_min: 1.2, vtlp_max: 0.8")) { e in
            XCTAssertTrue("\(e)".contains("vtlp_min must not exceed vtlp_max"), "\(e)")
        }
    }
}

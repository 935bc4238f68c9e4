// sequence.train's `members: N` and read.audio's validation split: an ensemble trained into one model file
// (each member under its own prefix, loadable member by member) that sequence.classify averages, and
// validation voices scored per voice and per group without being trained on.
import Foundation
import XCTest
import TestSupport
import Tensor
import Media
import NN
@testable import Pipeline
@testable import Training
@testable import Sequence

final class SequenceEnsembleTests: ScratchFolderTestCase {
    func run(_ conf: String) throws -> RunSummary { try runPipeline(conf, registry: sequenceRegistry) }
    let features = "  - audio.mfcc: {n_mfcc: 13, n_fft: 256, hop_length: 80, n_mels: 26}\n"

    /// clips/<split>/<word>/<word>_<voice>_<take>.wav: tone "words" whose pitch each voice scales.
    func makeClips() throws {
        var rng = SeededRandom(seed: 9)
        let words = [("high", 1400.0), ("low", 300.0), ("mid", 650.0)]
        let voices = [
            ("train", "alice", 0.9), ("train", "bob", 1.1), ("test", "carol", 1.0), ("validation", "women-dora", 1.25),
            ("validation", "men-ed", 0.95),
        ]
        for (word, f0) in words {
            for (split, voice, shift) in voices {
                let folder = "\(dir!)/clips/\(split)/\(word)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for take in 0..<6 {
                    let n = 1600 + rng.nextInt(1600), f = f0 * shift * Double(0.95 + 0.1 * rng.nextFloat())
                    let samples = (0..<n).map { i -> Float in
                        let t = Double(i) / 8000
                        return Float(0.5 * sin(2 * .pi * f * t * (1 + 0.3 * t))) + 0.01 * rng.nextNormal()
                    }
                    try Audio.writeWAV(
                        AudioClip(samples: samples, sampleRate: 8000), to: "\(folder)/\(word)_\(voice)_\(take).wav")
                }
            }
        }
    }

    func train(members: Int, model: String) throws -> [String: Any] {
        let summary = try run(
            """
            stages:
              - read.audio: {train: clips/train, test: clips/test, validation: clips/validation, sample_rate: 8000}
            \(features)  - sequence.train:
                  model: out/\(model).safetensors
                  layers: [{lstm: {hidden: 8, layers: 1}}]
                  members: \(members)
                  epochs: 6
                  batch_size: 8
                  learning_rate: 0.01
                  seed: 3
                  group_pattern: "^(women|men)-"
                  metrics: out/\(model).json
            """)
        XCTAssertEqual(summary.failures.count, 0)
        XCTAssertEqual(summary.succeeded, 90, "train, test and validation clips, each once")
        return try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: "\(dir!)/out/\(model).json"))) as! [String: Any]
    }

    func testValidationVoicesAreScoredPerVoiceAndGroupNotTrainedOn() throws {
        try makeClips()
        let metrics = try train(members: 1, model: "one")
        let byGroup = try XCTUnwrap(metrics["validation_set_by_group"] as? [String: [String: Any]])
        XCTAssertEqual(byGroup.keys.sorted(), ["men", "women"])
        XCTAssertEqual(byGroup["women"]?["count"] as? Int, 18)
        let byVoice = try XCTUnwrap(metrics["validation_set_by_voice"] as? [String: [String: Any]])
        XCTAssertEqual(byVoice.keys.sorted(), ["men-ed", "women-dora"])
        // The overall figure is the clip-weighted mean of the groups'.
        let overall = try XCTUnwrap(metrics["validation_set_accuracy"] as? Double)
        let women = byGroup["women"]!["accuracy"] as! Double, men = byGroup["men"]!["accuracy"] as! Double
        XCTAssertEqual(overall, (women + men) / 2, accuracy: 1e-5)
        let (net, model) = try ModelFile.load(dir + "/out/one.safetensors")
        XCTAssertEqual(model.members, 1)
        XCTAssertEqual(net.outputShape, [3])
    }

    func testAnEnsembleIsOneFileWhoseMembersClassifyAveraged() throws {
        try makeClips()
        _ = try train(members: 2, model: "pair")
        let path = dir + "/out/pair.safetensors"
        let (tensors, meta) = try Safetensors.read(path)
        XCTAssertEqual(meta["members"], "2")
        XCTAssertTrue(tensors.keys.allSatisfy { $0.hasPrefix("member0.") || $0.hasPrefix("member1.") })
        XCTAssertNotNil(tensors["member1.lstm.weight_ih_l0"], "PyTorch names under each member's prefix")
        XCTAssertThrowsError(try ModelFile.load(path)) { XCTAssertTrue("\($0)".contains("ensemble of 2"), "\($0)") }
        let (members, model) = try ModelFile.loadMembers(path)
        XCTAssertEqual(members.count, 2)
        XCTAssertEqual(model.members, 2)
        XCTAssertNotEqual(
            members[0].stateDict().first!.1.scalars, members[1].stateDict().first!.1.scalars, "two seeds")
        // Member 0 is the model a one-member run with the same seed trains.
        _ = try train(members: 1, model: "single")
        let (single, _) = try ModelFile.load(dir + "/out/single.safetensors")
        for ((n, a), (_, b)) in zip(single.stateDict(), members[0].stateDict()) {
            XCTAssertEqual(a.scalars, b.scalars, n)
        }

        // sequence.classify averages the members' probabilities with no extra option: against each member
        // written to a file of its own and classified alone.
        func probabilities(_ model: String) throws -> [String: [String: Double]] {
            _ = try run(
                """
                stages:
                  - read.audio: {path: clips/test, sample_rate: 8000}
                \(features)  - sequence.classify: {model: \(model), top_k: 3}
                  - write.csv: {path: out/p.csv}
                """)
            return try predictedProbabilities(csv: dir + "/out/p.csv")
        }
        var alone = model
        alone.members = 1
        try alone.save(members[0], to: dir + "/out/m0.safetensors")
        try alone.save(members[1], to: dir + "/out/m1.safetensors")
        let a = try probabilities("out/m0.safetensors"), b = try probabilities("out/m1.safetensors")
        let both = try probabilities("out/pair.safetensors")
        XCTAssertEqual(both.count, 18)
        XCTAssertNotEqual(a, b)
        for (file, p) in both {
            for (label, v) in p {
                XCTAssertEqual(v, (a[file]![label]! + b[file]![label]!) / 2, accuracy: 2e-6, "\(file) \(label)")
            }
        }
    }
}

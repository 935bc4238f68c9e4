// Text stages end to end: a character model learns a small repetitive text (held-out bits per character
// far below the uniform log2(V)), generation with a fixed seed is reproducible, and text.read names the
// byte offset of invalid UTF-8.
import XCTest
import TestSupport
import Tensor
import NN
@testable import Pipeline
@testable import Training
@testable import Sequence

final class TextPipelineTests: ScratchFolderTestCase {
    func run(_ conf: String) throws -> RunSummary { try runPipeline(conf, registry: sequenceRegistry) }

    func trainTiny(curveEvery: Int = 200, model: String = "chars") throws {
        let sentence = "the cat sat on the mat. the dog sat on the log. "
        try String(repeating: sentence, count: 60).write(toFile: dir + "/train.txt", atomically: true, encoding: .utf8)
        try String(repeating: "the dog sat on the mat. the cat sat on the log. ", count: 5).write(
            toFile: dir + "/test.txt", atomically: true, encoding: .utf8)
        _ = try run(
            """
            stages:
              - text.read: {train: train.txt, test: test.txt}
              - text.train:
                  model: out/\(model).safetensors
                  curve_every: \(curveEvery)
                  embedding: 8
                  hidden: 32
                  layers: 1
                  window: 24
                  batch_size: 4
                  epochs: 12
                  learning_rate: 0.01
                  sample_length: 50
                  metrics: out/metrics.json
                  report: out/report.html
            """)
    }

    func testTinyCharacterModelLearnsHeldOutText() throws {
        try trainTiny()
        let metrics =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/metrics.json")))
            as! [String: Any]
        let bpc = try XCTUnwrap(metrics["test_bits_per_char"] as? Double)
        print("tiny character LSTM: held-out \(bpc) bits per character (uniform over 16 characters: 4)")
        XCTAssertLessThan(bpc, 1.5)
        let epochs = try XCTUnwrap(metrics["epochs"] as? [[String: Any]])
        XCTAssertNotNil(epochs.last?["validation_bits_per_char"] as? Double)
        XCTAssertTrue(
            try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8).contains("Sample (temperature 0.8)"))
    }

    /// Points within epochs: the step, training and validation bits per character — and the same model as
    /// without them (the validation pass runs on a twin, the training state untouched).
    func testTheCurveHasPointsWithinEpochsAndLeavesTrainingAlone() throws {
        try trainTiny(curveEvery: 10, model: "curved")
        let metrics =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/metrics.json")))
            as! [String: Any]
        let curve = try XCTUnwrap(metrics["curve"] as? [[String: Double]])
        let epochs = try XCTUnwrap(metrics["epochs"] as? [[String: Any]])
        XCTAssertGreaterThan(curve.count, epochs.count, "more points than epochs")
        XCTAssertEqual(curve.map { $0["step"]! }, (1...curve.count).map { Double($0 * 10) })
        XCTAssertTrue(curve.allSatisfy { $0["bits_per_char"] != nil && $0["validation_bits_per_char"] != nil })
        XCTAssertLessThan(curve.last!["bits_per_char"]!, curve.first!["bits_per_char"]!, "training goes down")
        XCTAssertTrue(try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8).contains("steps 10–"))
        try trainTiny(curveEvery: 0, model: "plain")
        XCTAssertEqual(
            try Safetensors.read(dir + "/out/curved.safetensors").tensors.mapValues(\.scalars),
            try Safetensors.read(dir + "/out/plain.safetensors").tensors.mapValues(\.scalars))
        let plain =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/metrics.json")))
            as! [String: Any]
        XCTAssertNil(plain["curve"])
    }

    func testGenerationWithASeedIsReproducible() throws {
        try trainTiny()
        func generate(seed: Int) throws -> String {
            _ = try run(
                """
                stages:
                  - text.generate: {model: out/chars.safetensors, output: out/g.txt, length: 200, seed: \(seed), prompt: "the "}
                """)
            return try String(contentsOfFile: dir + "/out/g.txt", encoding: .utf8)
        }
        let a = try generate(seed: 7), b = try generate(seed: 7), c = try generate(seed: 8)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertTrue(a.hasPrefix("the "))
        XCTAssertEqual(a.unicodeScalars.count, 204)
        XCTAssertThrowsError(
            try run(
                """
                stages:
                  - text.generate: {model: out/chars.safetensors, output: out/g.txt, prompt: "Zebra"}
                """)
        ) { XCTAssertTrue("\($0)".contains("never saw: 'Z'"), "\($0)") }
    }

    func testABidirectionalModelFileIsRefusedForGeneration() throws {
        // A hand-made file claiming to be a character model, with a backward direction generation cannot carry.
        let layers: [LayerSpec] = [
            .embedding(vocabulary: 3, size: 4),
            .recurrent(RecurrentSpec(.lstm, hidden: 5, sequence: true, bidirectional: true)),
            .dense(units: 3, activation: ActivationSpec(.none), bias: true),
        ]
        let net = try Network(layers: layers, inputShape: [1], seed: 1)
        try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
        try ModelFile(task: "text.train", layers: layers, inputShape: [1], labels: ["a", "b", " "]).save(
            net, to: dir + "/out/bi.safetensors")
        XCTAssertThrowsError(
            try run(
                """
                stages:
                  - text.generate: {model: out/bi.safetensors, output: out/g.txt, length: 5}
                """)
        ) {
            XCTAssertTrue(
                "\($0)".contains(
                    "bi.safetensors: a text.train model with a bidirectional layer, not a character model"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out/g.txt"))
    }

    func testInvalidUTF8IsReportedWithItsByteOffset() throws {
        var bytes = Array("hello, world".utf8)
        bytes.insert(0xC3, at: 7)
        bytes.insert(0x28, at: 8)  // a lead byte followed by an ASCII byte
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/bad.txt"))
        XCTAssertThrowsError(try TextRead.read(dir + "/bad.txt", maxBytes: 1000)) {
            XCTAssertEqual("\($0)", dir + "/bad.txt: not UTF-8 text: invalid byte sequence at byte offset 7")
        }
        XCTAssertThrowsError(try TextRead.read(dir + "/bad.txt", maxBytes: 5)) {
            XCTAssertTrue("\($0)".contains("exceeds 5 bytes"), "\($0)")
        }
    }
}

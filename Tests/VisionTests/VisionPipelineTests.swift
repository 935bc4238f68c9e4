// End to end on real MNIST fixture digits (30 train / 6 test per class, committed): train through the
// pipeline runner, check held-out accuracy, reload the checkpoint, and classify a folder of mixed and
// corrupt PNGs.
import XCTest
import TestSupport
import Tensor
import NN
import Media
@testable import Pipeline
@testable import Vision
@testable import Training

let fixtureDigits = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "Fixtures/digits"
).path

let testRegistry: StageRegistry = {
    let r = StageRegistry()
    registerBuiltinStages(r)
    registerVisionStages(r)
    return r
}()

final class VisionPipelineTests: ScratchFolderTestCase {

    func run(_ conf: String, name: String = "p.conf") throws -> RunSummary {
        try runPipeline(conf, name: name, registry: testRegistry)
    }

    func trainTiny() throws -> RunSummary {
        try run(
            """
            stages:
              - read.png: {train: \(fixtureDigits)/train, test: \(fixtureDigits)/test}
              - image.normalize:
              - vision.train:
                  model: out/tiny.safetensors
                  layers: [{conv: {filters: 8, size: 3}}, {maxpool: 2}, {conv: {filters: 16, size: 3}}, {maxpool: 2}, {dense: 32}]
                  epochs: 12
                  batch_size: 16
                  learning_rate: 0.003
                  seed: 3
                  metrics: out/metrics.json
                  report: out/report.html
            """)
    }

    func testTrainOnFixtureDigitsBeatsChanceOnHeldOutDigits() throws {
        let summary = try trainTiny()
        XCTAssertEqual(summary.failures.count, 0)
        XCTAssertEqual(summary.succeeded, 360)
        let metrics =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/metrics.json")))
            as! [String: Any]
        let acc = metrics["test_accuracy"] as! Double
        print("tiny CNN, 300 training digits → held-out accuracy \(acc) on 60 digits never trained on")
        XCTAssertGreaterThan(acc, 0.6)  // chance is 0.1
        XCTAssertEqual((metrics["epochs"] as! [Any]).count, 12)
        XCTAssertEqual(metrics["test_count"] as? Int, 60)
        XCTAssertEqual((metrics["confusion_matrix"] as! [[Int]]).joined().reduce(0, +), 60)
        XCTAssertNotNil(metrics["per_class_accuracy"] as? [String: Double])
        let html = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<svg") && html.contains("Confusion matrix"))

        // The checkpoint reloads into an identical network.
        let (net, model) = try ModelFile.load(dir + "/out/tiny.safetensors")
        XCTAssertEqual(model.labels, (0...9).map(String.init))
        XCTAssertEqual(
            net.namedParameters().map { $0.0 },
            [
                "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias",
            ])
        // The reloaded network is the trained one: on the 60 held-out digits it makes exactly the
        // predictions that training reported (the confusion matrix in metrics.json).
        var confusion = Array(repeating: Array(repeating: 0, count: 10), count: 10)
        for label in 0...9 {
            let folder = fixtureDigits + "/test/\(label)"
            for f in try FileManager.default.contentsOfDirectory(atPath: folder) {
                let x = try PNG.read(folder + "/" + f).mnistNormalized().tensor().reshaped([1, 1, 28, 28])
                confusion[label][Inference.run(net, x).argmaxRows()[0]] += 1
            }
        }
        XCTAssertEqual(confusion, metrics["confusion_matrix"] as! [[Int]])
    }

    func testClassifyMixedFolderReportsBadFilesAndWritesCompleteCSV() throws {
        _ = try trainTiny()
        // A folder a user might have: a digit as a large RGB image on white, a 16-bit gray one, the
        // original, and broken files.
        let inbox = dir + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox + "/sub", withIntermediateDirectories: true)
        let srcDir = fixtureDigits + "/test/3"
        let src = srcDir + "/" + (try FileManager.default.contentsOfDirectory(atPath: srcDir).sorted()[0])
        let digit = try PNG.read(src)
        let big = digit.resized(width: 84, height: 84)
        var paper = Image(width: 110, height: 100, channels: 3, fill: 0.95)  // dark ink on off-white paper
        for y in 0..<84 {
            for x in 0..<84 { for c in 0..<3 { paper[x: 13 + x, y: 9 + y, c: c] = 0.95 - 0.9 * big[x: x, y: y] } }
        }
        let rgb = paper
        try PNG.write(rgb, to: inbox + "/photo_rgb.png")
        try PNG.write(digit, to: inbox + "/sub/scan16.png", bitDepth: 16)
        try FileManager.default.copyItem(atPath: src, toPath: inbox + "/orig.png")
        let good = try Data(contentsOf: URL(fileURLWithPath: src))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: inbox + "/truncated.png"))
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: inbox + "/fake.png"))
        try Data().write(to: URL(fileURLWithPath: inbox + "/empty.png"))

        let summary = try run(
            """
            stages:
              - read.png: {path: inbox}
              - image.normalize:
              - vision.classify: {model: out/tiny.safetensors, top_k: 3}
              - write.csv: {path: out/pred.csv}
            """, name: "classify.conf")
        XCTAssertEqual(summary.succeeded, 3)
        XCTAssertEqual(
            Set(summary.failures.map { ($0.file as NSString).lastPathComponent }),
            ["truncated.png", "fake.png", "empty.png"])
        XCTAssertTrue(summary.failures.allSatisfy { !$0.reason.isEmpty })
        let csv = try String(contentsOfFile: dir + "/out/pred.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "file,label,confidence,label2,confidence2,label3,confidence3")
        XCTAssertEqual(csv.count, 4)
        for row in csv.dropFirst() {
            let f = row.split(separator: ",")
            XCTAssertEqual(f.count, 7)
            print("prediction:", row)
            XCTAssertEqual(f[1], "3", "\(row)")  // the same digit in three disguises
        }
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: dir + "/out").filter { $0.hasSuffix(".tmp") }, [])
    }

    func testEnsembleAveragesItsModelsProbabilities() throws {
        _ = try trainTiny()
        _ = try run(
            try String(contentsOfFile: dir + "/p.conf", encoding: .utf8).replacingOccurrences(
                of: "tiny.safetensors", with: "twin.safetensors"
            )
            .replacingOccurrences(of: "seed: 3", with: "seed: 4"))
        /// Each held-out digit's probability of every class, by file name.
        func probabilities(_ options: String) throws -> [String: [String: Double]] {
            let s = try run(
                """
                stages:
                  - read.png: {path: \(fixtureDigits)/test}
                  - image.normalize:
                  - vision.classify: {\(options), top_k: 10}
                  - write.csv: {path: out/p.csv}
                """, name: "classify.conf")
            XCTAssertEqual(s.succeeded, 60)
            return try predictedProbabilities(csv: dir + "/out/p.csv")
        }
        let a = try probabilities("model: out/tiny.safetensors"), b = try probabilities("model: out/twin.safetensors")
        let both = try probabilities("model: out/tiny.safetensors, ensemble: [out/twin.safetensors]")
        XCTAssertEqual(both.count, 60)
        XCTAssertNotEqual(a, b, "two seeds, two different models")
        for (file, p) in both {
            XCTAssertEqual(p.count, 10)
            for (label, v) in p {
                XCTAssertEqual(v, (a[file]![label]! + b[file]![label]!) / 2, accuracy: 1e-5, "\(file) \(label)")
            }
        }
    }

    func testStopOnErrorStopsAtFirstBadFile() throws {
        try FileManager.default.createDirectory(atPath: dir + "/in", withIntermediateDirectories: true)
        try Data("junk".utf8).write(to: URL(fileURLWithPath: dir + "/in/a.png"))
        XCTAssertThrowsError(
            try run("on_error: stop\nstages:\n  - read.png: {path: in}\n  - write.png: {folder: out}\n")
        ) { e in
            XCTAssertTrue(e is RunStopped, "\(e)")
        }
    }

    /// In evaluation mode a network with dropout computes what the same network without the dropout layer
    /// computes (the same weights); in training mode it does not.
    func testEvalModeTurnsDropoutOffAndTrainModeOn() throws {
        let head: [LayerSpec] = [
            .conv(ConvSpec(filters: 4, size: 3, padding: 1)), .maxpool(size: 2),
            .dense(units: 16, activation: .relu, bias: true),
        ]
        let net = try Network(
            layers: head + [.dropout(rate: 0.5), .classifierHead(classes: 3)], inputShape: [1, 8, 8], seed: 1)
        let plain = try Network(layers: head + [.classifierHead(classes: 3)], inputShape: [1, 8, 8], seed: 2)
        try plain.load(Dictionary(uniqueKeysWithValues: net.stateDict()), file: "the dropout network")
        let x = Tensor.uniform([2, 1, 8, 8], seed: 2)
        net.eval()
        plain.eval()
        let expected = Autograd.noGrad { plain(x) }.scalars
        XCTAssertEqual(Autograd.noGrad { net(x) }.scalars, expected)
        net.train()
        XCTAssertNotEqual(Autograd.noGrad { net(x) }.scalars, expected)
    }

    func testModelSummaryAndArchitectureErrors() throws {
        let net = try Network(
            layers: LayerSpec.seedCNN + [.classifierHead(classes: 10)], inputShape: [1, 28, 28], seed: 0)
        XCTAssertEqual(net.parameterCount, 121_930)  // same as PyTorch's SeedCNN
        XCTAssertTrue(net.summaryTable().contains("conv2 3×3/1 relu"))
        XCTAssertThrowsError(
            try Network(layers: [.conv(ConvSpec(filters: 4, size: 9))], inputShape: [1, 5, 5], seed: 0))
        XCTAssertThrowsError(try ModelFile.load(dir + "/none.safetensors")) {
            XCTAssertTrue("\($0)".contains("none.safetensors"))
        }
    }
}

// Training inputs that could trap or give a silently wrong result: each is a clear error or handled.
import XCTest
import TestSupport
import Tensor
import Media
@testable import Pipeline
@testable import Vision

final class HostileTrainingTests: ScratchFolderTestCase {
    func run(_ conf: String) throws -> RunSummary { try runPipeline(conf, registry: testRegistry) }

    /// Writes `count` images of `size`×`size` per class into `folder/<class>/`.
    func images(_ folder: String, size: Int, count: Int) throws {
        for c in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: "\(dir!)/\(folder)/\(c)", withIntermediateDirectories: true)
            for i in 0..<count {
                try PNG.write(
                    Image(
                        width: size, height: size, channels: 1,
                        fill: c == "a" ? 0.1 + 0.01 * Float(i) : 0.9 - 0.01 * Float(i)),
                    to: "\(dir!)/\(folder)/\(c)/\(i).png")
            }
        }
    }

    /// Batchnorm after dense with a batch of one is an error naming the fix, never a trap in the op.
    func testBatchOfOneBeforeBatchnormIsAnErrorOrLeftOut() throws {
        try images("train", size: 4, count: 4)
        let base =
            "stages:\n  - read.png: {train: train}\n  - vision.train: {model: m.safetensors, layers: [{dense: 8}, {batchnorm:}], epochs: 2"
        XCTAssertThrowsError(try run(base + ", batch_size: 1}\n")) { e in
            XCTAssertTrue("\(e)".contains("needs at least 2 examples per batch (batch_size is 1"), "\(e)")
        }
        // 8 images in batches of 7: the last batch of one is left out instead of trapping.
        XCTAssertEqual(try run(base + ", batch_size: 7}\n").failures.count, 0)
    }

    /// A network inside every per-layer range but far beyond the machine (64 GB) is refused by check when the
    /// image size is known, and by the run before it allocates.
    func testNetworksBeyondTheMemoryLimitAreRefusedWithTheEstimate() throws {
        let huge = "layers: [{conv: {filters: 4096, size: 1}}, {dense: 65536}]"
        let path = dir + "/p.conf"
        try
            "stages:\n  - read.png: {train: train}\n  - image.normalize:\n  - vision.train: {model: m.safetensors, \(huge)}\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let cfg = try PipelineConfig.load(path, registry: testRegistry)
        XCTAssertThrowsError(try cfg.stages[2].spec.make(cfg.stages[2].options)) { e in
            XCTAssertTrue(
                e is ConfigError && "\(e)".contains("training needs about")
                    && "\(e)".contains("more than the memory limit"), "\(e)")
            print("check:", e)
        }
        // Image size unknown until the images arrive: refused at the start of training, before any weight exists.
        try images("train", size: 8, count: 2)
        XCTAssertThrowsError(
            try run(
                "max_memory_mb: 64\nstages:\n  - read.png: {train: train}\n  - vision.train: {model: m.safetensors, layers: [{dense: 65536}]}\n"
            )
        ) { e in
            XCTAssertTrue("\(e)".contains("more than the memory limit of 64 MB"), "\(e)")
        }
    }

    /// Test images of another size than the training images are reported per file, never read out of bounds.
    func testTestImagesOfAnotherSizeAreReportedPerFile() throws {
        try images("train", size: 8, count: 3)
        try images("test", size: 28, count: 2)
        let s = try run(
            "stages:\n  - read.png: {train: train, test: test}\n  - vision.train: {model: m.safetensors, layers: [{dense: 4}], epochs: 1, metrics: m.json}\n"
        )
        XCTAssertEqual(s.failures.count, 4)
        XCTAssertTrue(
            s.failures.allSatisfy { $0.reason.contains("image is 28×28×1 but the model expects 8×8×1") },
            "\(s.failures)")
        try images("tiny", size: 1, count: 1)
        let s2 = try run(
            "stages:\n  - read.png: {train: train, test: tiny}\n  - vision.train: {model: m.safetensors, layers: [{dense: 4}], epochs: 1}\n"
        )
        XCTAssertEqual(s2.failures.count, 2)
    }
}

// Exact resume: a training run killed with SIGKILL (between epochs, or while a checkpoint is being
// written) and continued with --resume ends with the same model file, byte for byte, as a run that was
// never stopped. A checkpoint from another run is refused.
import XCTest
import TestSupport

final class ResumeTests: ScratchFolderTestCase {

    /// Every random stream is in play: shuffling, a validation split, augmentation and dropout.
    func writeConfig(
        epochs: Int = 40, layers: String = "[{conv: {filters: 8, size: 3}}, {maxpool: 2}, {dense: 32}, {dropout: 0.3}]"
    ) throws -> String {
        let digits = repoRoot + "/Tests/VisionTests/Fixtures/digits"
        let conf = dir + "/train.conf"
        try """
        stages:
          - read.png: {train: \(digits)/train}
          - image.normalize:
          - vision.train:
              model: out/m.safetensors
              metrics: out/metrics.json
              layers: \(layers)
              epochs: \(epochs)
              batch_size: 16
              optimizer: adamw
              learning_rate: 0.003
              augment: true
              validation_split: 0.1
              seed: 11
              checkpoint_every: 1
        """.write(toFile: conf, atomically: true, encoding: .utf8)
        return conf
    }

    /// Starts a run and SIGKILLs it `delay` seconds after its checkpoint file first appears (or after
    /// `delay` when resuming, since the file exists already). Returns false if it finished first.
    func runAndKill(_ args: [String], checkpoint: String, delay: Double) throws -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=no"
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        let existed = FileManager.default.fileExists(atPath: checkpoint)
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while !existed && !FileManager.default.fileExists(atPath: checkpoint) && p.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.002)
        }
        Thread.sleep(forTimeInterval: delay)
        guard p.isRunning else {
            p.waitUntilExit()
            return false
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)
        return true
    }

    func testKilledAndResumedRunEqualsUninterruptedRunBitForBit() throws {
        let conf = try writeConfig()
        let straight = try dlpipe([
            "run", conf, "--set", "vision.train.model=out/straight.safetensors", "--set",
            "vision.train.checkpoint=out/straight.ckpt",
        ])
        XCTAssertEqual(straight.status, 0, straight.stderr)

        let args = [
            "run", conf, "--set", "vision.train.model=out/resumed.safetensors", "--set",
            "vision.train.checkpoint=out/resumed.ckpt",
        ]
        let ckpt = dir + "/out/resumed.ckpt"
        // First kill soon after the first checkpoint; later ones at other moments, some of which fall
        // inside a checkpoint write. Each resume must pick up a usable checkpoint.
        var kills = 0
        XCTAssertTrue(try runAndKill(args, checkpoint: ckpt, delay: 0.05), "the run finished before it could be killed")
        kills += 1
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: dir + "/out/resumed.safetensors"), "killed runs write no model")
        for delay in [0.13, 0.31, 0.07] where try runAndKill(args + ["--resume"], checkpoint: ckpt, delay: delay) {
            kills += 1
        }
        let last = try dlpipe(args + ["--resume"])
        XCTAssertEqual(last.status, 0, last.stderr)
        XCTAssertTrue(last.stderr.contains("resumed from"), last.stderr)
        print(
            "killed \(kills) times; last resume: \(last.stderr.split(separator: "\n").first { $0.contains("resumed") } ?? "")"
        )

        // Temp files of killed checkpoint writes are swept by the next write.
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: dir + "/out").filter { $0.hasSuffix(".tmp") }, [])
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/out/straight.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/out/resumed.safetensors"))
        XCTAssertEqual(a.count, b.count)
        XCTAssertTrue(a == b, "resumed weights differ from the uninterrupted run's")
        // The per-epoch history survives the kills too (losses, accuracies; not the timings).
        func losses(_ m: String) throws -> [Double] {
            let j =
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/" + m)))
                as! [String: Any]
            return (j["epochs"] as! [[String: Any]]).map { $0["loss"] as! Double }
        }
        let straightMetrics = try dlpipe([
            "run", conf, "--set", "vision.train.model=out/s2.safetensors", "--set", "vision.train.metrics=out/s2.json",
            "--set", "vision.train.checkpoint=out/s2.ckpt",
        ])
        XCTAssertEqual(straightMetrics.status, 0)
        XCTAssertEqual(try losses("metrics.json").count, 40)
        XCTAssertEqual(try losses("metrics.json"), try losses("s2.json"))
    }

    func testCheckpointFromAnotherRunIsRefused() throws {
        var conf = try writeConfig(epochs: 2)
        XCTAssertEqual(try dlpipe(["run", conf]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/out/m.safetensors.checkpoint"))
        conf = try writeConfig(epochs: 2, layers: "[{conv: {filters: 4, size: 3}}, {maxpool: 2}, {dense: 16}]")
        let other = try dlpipe(["run", conf, "--resume"])
        XCTAssertEqual(other.status, 1)
        XCTAssertTrue(other.stderr.contains("checkpoint was written for a different network"), other.stderr)
        let data = try dlpipe([
            "run", try writeConfig(epochs: 2), "--resume", "--set",
            "read.png.train=\(repoRoot)/Tests/VisionTests/Fixtures/digits/test",
        ])
        XCTAssertEqual(data.status, 1)
        XCTAssertTrue(data.stderr.contains("checkpoint was written for different training data"), data.stderr)
    }
}

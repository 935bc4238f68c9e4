// The dlpipe binary as a user runs it: exit codes, messages, inspect output, and Ctrl-C safety.
// The binary is the one `swift build --build-tests` put beside the test bundle (scripts/test.sh does).
import XCTest
import TestSupport
import Media

let binary: String = {
    var dir = Bundle.main.bundleURL
    for _ in 0..<3 {
        if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("dlpipe").path) { break }
        dir = dir.deletingLastPathComponent()
    }
    return dir.appendingPathComponent("dlpipe").path
}()

struct Output {
    let status: Int32
    let stdout: String
    let stderr: String
}

@discardableResult
func dlpipe(_ args: [String], cwd: String? = nil, interruptAfter: Double? = nil) throws -> Output {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    var env = ProcessInfo.processInfo.environment
    env["SWIFT_BACKTRACE"] = "enable=no"
    p.environment = env
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    if let t = interruptAfter {
        Thread.sleep(forTimeInterval: t)
        p.interrupt()
    }
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Output(
        status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
        stderr: String(decoding: e, as: UTF8.self))
}

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
    .path

final class CLITests: ScratchFolderTestCase {

    func testHelpVersionAndUsageErrors() throws {
        XCTAssertTrue(
            FileManager.default.isExecutableFile(atPath: binary), "build dlpipe first (swift build --build-tests)")
        let h = try dlpipe(["--help"])
        XCTAssertEqual(h.status, 0)
        XCTAssertTrue(h.stdout.contains("run FILE"))
        for cmd in ["run", "check", "stages", "serve", "status", "inspect", "convert", "bench"] {
            let r = try dlpipe([cmd, "--help"])
            XCTAssertEqual(r.status, 0, cmd)
            XCTAssertTrue(r.stdout.contains("usage: dlpipe \(cmd)"), cmd)
            XCTAssertEqual(try dlpipe(["help", cmd]).stdout, r.stdout, "help \(cmd)")
        }
        XCTAssertEqual(try dlpipe(["help", "--help"]).stdout, h.stdout)
        XCTAssertEqual(try dlpipe(["--version"]).stdout, "dlpipe 0.1.0\n")
        let bad = try dlpipe(["rnu"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("unknown command 'rnu' (did you mean 'run'?)"), bad.stderr)
    }

    func testBenchPeakPrintsOneFigurePerThreadCount() throws {
        // Only the output's form: figures belong to benchmark runs, not to tests.
        let r = try dlpipe(["bench", "peak", "--json", "--threads", "1,2", "--seconds", "0.01"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = r.stdout.split(separator: "\n").map {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        XCTAssertEqual(rows.compactMap { $0?["threads"] as? Int }, [1, 2], r.stdout)
        XCTAssertTrue(rows.allSatisfy { ($0?["gflops"] as? Double ?? 0) > 0 }, r.stdout)
    }

    func testBenchGANConvPrintsEachLayersTwoPasses() throws {
        let r = try dlpipe(["bench", "gan-conv", "--json", "--threads", "1", "--seconds", "0.01"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = r.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let layers = ["G.convT1", "G.convT2", "G.convT3", "D.conv1", "D.conv2"]
        XCTAssertEqual(
            rows.map { "\($0["layer"] ?? "") \($0["pass"] ?? "")" },
            layers.flatMap { ["\($0) forward", "\($0) fwd+bwd"] }, r.stdout)
        XCTAssertTrue(
            rows.allSatisfy { ($0["gflops"] as? Double ?? 0) > 0 && ($0["ms"] as? Double ?? 0) > 0 }, r.stdout)
    }

    func testCheckReportsPositionAndExitCode() throws {
        let conf = dir + "/bad.conf"
        try "stages:\n  - read.png: {path: x}\n  - vision.train:\n      model: m.safetensors\n      lerning_rate: 0.1\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        let r = try dlpipe(["check", conf])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(
            r.stderr, "\(conf):5:7: vision.train has no option 'lerning_rate' (did you mean 'learning_rate'?)\n")
        let ok = try dlpipe(["check", repoRoot + "/pipelines/digits-train.conf"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("ok (3 stages: read.png → image.normalize → vision.train)"))
        let stages = try dlpipe(["stages", "vision.train"])
        XCTAssertTrue(stages.stdout.contains("learning_rate") && stages.stdout.contains("default 0.001"))
    }

    func testInspectPNGAndAudioAsJSON() throws {
        // 16-bit RGBA PNG (our writer makes RGB; this one comes from the fixture set) and 44.1 kHz stereo FLAC.
        let png = repoRoot + "/Tests/MediaTests/Fixtures/png/rgba16.png"
        let flac = dir + "/stereo.flac"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [
            "sox", "-R", "-D", "-n", "-r", "44100", "-c", "2", "-b", "16", flac, "synth", "1.5", "sine", "440", "vol",
            "0.5",
        ]
        try p.run()
        p.waitUntilExit()
        let trunc = dir + "/trunc.png"
        try Data(try Data(contentsOf: URL(fileURLWithPath: png)).prefix(60)).write(to: URL(fileURLWithPath: trunc))
        let r = try dlpipe(["inspect", "--json", png, flac, trunc])
        XCTAssertEqual(r.status, 1)
        let lines = r.stdout.split(separator: "\n").map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines[0]["kind"] as? String, "png")
        XCTAssertEqual(lines[0]["colorType"] as? String, "rgba")
        XCTAssertEqual(lines[0]["bitDepth"] as? Int, 16)
        XCTAssertEqual(lines[0]["width"] as? Int, 7)
        XCTAssertEqual(lines[1]["kind"] as? String, "audio")
        XCTAssertEqual(lines[1]["sampleRate"] as? Int, 44100)
        XCTAssertEqual(lines[1]["channels"] as? Int, 2)
        XCTAssertEqual(lines[1]["frames"] as? Int, 66150)
        XCTAssertEqual(lines[1]["duration"] as! Double, 1.5, accuracy: 1e-6)
        XCTAssertEqual(lines[1]["rms"] as! Double, 0.3536, accuracy: 0.002)
        XCTAssertTrue(r.stderr.hasPrefix(trunc + ": "), r.stderr)
    }

    /// Ctrl-C while a run is writing checkpoints, epoch after epoch: exit 130, no model (the run did not
    /// finish), no temp file, and the checkpoint on disk is whole (a resumed run completes from it).
    func testInterruptedTrainingLeavesNoPartialFiles() throws {
        try interruptTraining(with: SIGINT)
        try FileManager.default.removeItem(atPath: dir + "/out")
        try interruptTraining(with: SIGHUP)  // a closed terminal stops a run the same way
    }

    func interruptTraining(with signal: Int32) throws {
        let conf = dir + "/train.conf"
        let digits = repoRoot + "/Tests/VisionTests/Fixtures/digits"
        try """
        stages:
          - read.png: {train: \(digits)/train, test: \(digits)/test}
          - vision.train: {model: out/m.safetensors, metrics: out/metrics.json, epochs: 10000, checkpoint_every: 1}
        """.write(toFile: conf, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["run", conf]
        p.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        try p.run()
        let checkpoint = dir + "/out/m.safetensors.checkpoint"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: checkpoint) && p.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.005)
        }
        Thread.sleep(forTimeInterval: 0.3)  // several more checkpoint writes
        kill(p.processIdentifier, signal)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130, stderr)
        XCTAssertTrue(stderr.contains("run stopped: interrupted"), stderr)
        let out = try FileManager.default.contentsOfDirectory(atPath: dir + "/out")
        XCTAssertEqual(out, ["m.safetensors.checkpoint"], "an interrupted run leaves only whole checkpoints")
        let resumed = try dlpipe([
            "run", conf, "--resume", "--set", "vision.train.epochs=\(try checkpointEpoch(checkpoint) + 1)",
        ])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/out/m.safetensors"))
    }

    /// The epoch a checkpoint was written after, from its safetensors metadata.
    func checkpointEpoch(_ path: String) throws -> Int {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        let n = d.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: d.subdata(in: 8..<(8 + n))) as! [String: Any]
        return Int((header["__metadata__"] as! [String: String])["epoch"]!)!
    }
}

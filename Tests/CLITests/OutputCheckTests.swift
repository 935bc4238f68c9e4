// Outputs that cannot be written are found by `check` and at the start of `run`,
// before any work, with one clear message; two options writing one file are a config error.
import XCTest
import TestSupport

final class OutputCheckTests: ScratchFolderTestCase {
    func conf(_ stages: String) throws -> String {
        let path = dir + "/c.conf"
        try ("stages:\n  - read.png: {train: \(repoRoot)/Tests/VisionTests/Fixtures/digits/train}\n" + stages).write(
            toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testUnwritableOutputsAreRefusedBeforeAnyWork() throws {
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/afile"))
        for (model, why) in [
            ("afile/m.safetensors", "afile: exists and is not a folder"),
            ("/proc/dlpipe-no/m.safetensors", "cannot create folder"),
        ] {
            let c = try conf("  - vision.train: {model: \(model), epochs: 500}\n")
            let check = try dlpipe(["check", c])
            XCTAssertEqual(check.status, 2, check.stderr)
            XCTAssertTrue(
                check.stderr.contains("c.conf:3:5: vision.train.model: cannot write ") && check.stderr.contains(model)
                    && check.stderr.contains(why), check.stderr)
            let t0 = Date()
            let run = try dlpipe(["run", c])
            XCTAssertEqual(run.status, 2, run.stderr)
            XCTAssertFalse(
                run.stderr.contains("epoch"), "no training before the output is known to be writable: \(run.stderr)")
            XCTAssertLessThan(Date().timeIntervalSince(t0), 30)
            XCTAssertFalse(run.stderr.contains("NSCocoaErrorDomain"), run.stderr)
        }
        // check leaves no folder behind when it tries one.
        let c = try conf("  - vision.train: {model: new/deeper/m.safetensors}\n")
        XCTAssertEqual(try dlpipe(["check", c]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/new"))
    }

    func testTwoOutputsOfOneFileAreAConfigError() throws {
        let c = try conf("  - vision.train: {model: out/m.safetensors, metrics: out/m.safetensors}\n")
        let r = try dlpipe(["check", c])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(
            r.stderr.contains(
                "vision.train.metrics writes \(dir!)/out/m.safetensors, which vision.train.model (line 3) writes too"),
            r.stderr)
    }
}

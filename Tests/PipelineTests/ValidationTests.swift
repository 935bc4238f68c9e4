// Schema validation: stage names, options, types, ranges, required options, stage chaining, --set,
// and docs/stages.md kept equal to the registry.
import XCTest
@testable import Pipeline
import NN
import Vision
import Sequence
import Generative

let registry: StageRegistry = {
    let r = StageRegistry()
    registerBuiltinStages(r)
    registerVisionStages(r)
    registerSequenceStages(r)
    registerGenerativeStages(r)
    return r
}()

final class ValidationTests: XCTestCase {
    func validate(_ text: String) throws -> PipelineConfig {
        try PipelineConfig.validate(try parse(text), file: "t.conf", registry: registry)
    }

    func expectError(
        _ text: String, _ line: Int, _ col: Int, _ fragment: String, file: StaticString = #filePath, l: UInt = #line
    ) {
        XCTAssertThrowsError(try validate(text), file: file, line: l) { e in
            guard let ce = e as? ConfigError else { return XCTFail("not a ConfigError: \(e)", file: file, line: l) }
            XCTAssertEqual([ce.position.line, ce.position.column], [line, col], "\(ce)", file: file, line: l)
            XCTAssertTrue(ce.message.contains(fragment), "expected '\(fragment)' in \(ce)", file: file, line: l)
        }
    }

    func testValidPipelineGetsTypedOptionsAndDefaults() throws {
        let p = try validate(
            """
            on_error: stop
            stages:
              - read.png: {train: imgs/train, test: imgs/test}
              - image.normalize:
              - vision.train: {model: m.safetensors, epochs: 3, learning_rate: 0.01, augment: true}
            """)
        XCTAssertTrue(p.stopOnError)
        XCTAssertEqual(p.stages.map { $0.spec.name }, ["read.png", "image.normalize", "vision.train"])
        let t = p.stages[2].options
        XCTAssertEqual(t.int("epochs"), 3)
        XCTAssertEqual(t.float("learning_rate"), 0.01)
        XCTAssertEqual(t.int("batch_size"), 32)  // default
        XCTAssertEqual(t.string("model"), "m.safetensors")  // relative to the config's folder (".")
        XCTAssertEqual(p.stages[0].options.string("train"), "imgs/train")
        XCTAssertEqual(p.stages[1].options.int("size"), 28)
    }

    func testSchemaErrorsHavePositionsAndHints() {
        expectError("stages:\n  - read.pgn: {path: x}\n", 2, 5, "unknown stage 'read.pgn' (did you mean 'read.png'?)")
        expectError(
            "stages:\n  - read.png: {path: x, limt: 3}\n", 2, 25,
            "read.png has no option 'limt' (did you mean 'limit'?)")
        expectError("stages:\n  - read.png: {path: x, limit: many}\n", 2, 32, "read.png.limit must be an integer")
        expectError("stages:\n  - read.png: {path: x, limit: -1}\n", 2, 32, "out of range 0…100000000")
        expectError(
            "stages:\n  - read.png: {path: x, mode: grey}\n", 2, 31,
            "must be one of gray, rgb, found 'grey' (did you mean 'gray'?)")
        expectError(
            "stages:\n  - read.png: {path: x}\n  - vision.train: {epochs: 2}\n", 3, 5,
            "vision.train needs option 'model'")
        expectError(
            "stages:\n  - read.png: {path: x}\n  - vision.train: {model: m, augment: yes}\n", 3, 39,
            "must be true or false")
        expectError(
            "stages:\n  - image.normalize:\n", 2, 5, "image.normalize needs images as input, but it is the first stage")
        expectError(
            "stages:\n  - read.png: {path: x}\n  - write.csv: {path: o.csv}\n", 3, 5,
            "write.csv needs predictions as input, but read.png produces images")
        expectError(
            "stagez:\n  - read.png: {path: x}\n", 1, 1, "unknown top-level key 'stagez' (did you mean 'stages'?)")
        expectError("name: x\n", 1, 1, "missing 'stages:'")
        expectError("stages: []\n", 1, 9, "non-empty list")
        expectError("stages:\n  - read.png: [1]\n", 2, 15, "options of read.png must be a mapping")
        expectError(
            "stages:\n  - read.png: {path: x}\n  - vision.train:\n      model: m\n      layers:\n        - conv: {filters: 8, sise: 3}\n",
            6, 30, "conv has no setting 'sise' (did you mean 'size'?)")
        expectError(
            "stages:\n  - read.png: {path: x}\n  - vision.train:\n      model: m\n      layers: [{dense: 0}]\n", 5, 24,
            "dense.units = 0 is out of range")
    }

    func testSetOverridesApplyAndAreChecked() throws {
        let dir = NSTemporaryDirectory() + "dlpipe-set-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/p.conf"
        try "stages:\n  - read.png: {path: imgs}\n  - vision.train: {model: out/m.safetensors}\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let p = try PipelineConfig.load(
            path, overrides: ["vision.train.epochs=4", "read.png.limit=7"], registry: registry)
        XCTAssertEqual(p.stages[1].options.int("epochs"), 4)
        XCTAssertEqual(p.stages[0].options.int("limit"), 7)
        XCTAssertEqual(p.stages[0].options.string("path"), dir + "/imgs")  // relative to the config file
        XCTAssertThrowsError(try PipelineConfig.load(path, overrides: ["vision.train.epochs=zero"], registry: registry))
        { e in
            XCTAssertTrue(
                "\(e)".contains("--set vision.train.epochs:1:1: vision.train.epochs must be an integer"), "\(e)")
        }
        XCTAssertThrowsError(try PipelineConfig.load(path, overrides: ["audio.mfcc.n=3"], registry: registry)) { e in
            XCTAssertTrue("\(e)".contains("no stage 'audio.mfcc'"), "\(e)")
        }
        XCTAssertThrowsError(try PipelineConfig.load(dir + "/missing.conf", registry: registry)) { e in
            XCTAssertTrue("\(e)".contains("missing.conf:0:0: no such config file"), "\(e)")
        }
    }

    func testShippedPipelinesValidate() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../pipelines")
            .standardized.path
        let files = try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasSuffix(".conf") }
        XCTAssertGreaterThanOrEqual(files.count, 3)
        for f in files { XCTAssertNoThrow(try PipelineConfig.load(root + "/" + f, registry: registry), f) }
    }

    func testDocsStageReferenceIsTheRegistrysMarkdown() throws {
        let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../docs/stages.md"
        ).standardized
        let text = try String(contentsOf: doc, encoding: .utf8)
        // The reference: from the first stage heading to the end of the file.
        let first = try XCTUnwrap(text.range(of: "### `"))
        XCTAssertEqual(
            String(text[first.lowerBound...]), registry.markdownReference(),
            "docs/stages.md differs from `dlpipe stages --markdown`: run scripts/update-stage-reference.sh")
    }
}

final class AudioPipelineTests: XCTestCase {
    func testAudioStagesChainAndMatchLibrosa() throws {
        XCTAssertThrowsError(
            try PipelineConfig.validate(
                try parse("stages:\n  - read.png: {path: x}\n  - audio.mfcc:\n"),
                file: "t.conf", registry: registry)
        ) { e in
            XCTAssertEqual("\(e)", "t.conf:3:5: audio.mfcc needs audio clips as input, but read.png produces images")
        }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../MediaTests/Fixtures/audio").standardized.path
        let dir = NSTemporaryDirectory() + "dlpipe-audio-stage-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("RIFF junk".utf8).write(to: URL(fileURLWithPath: dir + "/broken.wav"))
        let conf = dir + "/a.conf"
        try """
        stages:
          - read.audio: {path: \(fixtures), sample_rate: 16000}
          - audio.mfcc:
          - write.features: {path: out/mfcc.safetensors}
        """.write(toFile: conf, atomically: true, encoding: .utf8)
        let summary = try PipelineRunner.run(
            try PipelineConfig.load(conf, registry: registry), progress: ProgressReporter(quiet: true))
        XCTAssertEqual(summary.succeeded, 3)
        let out = try Safetensors.read(dir + "/out/mfcc.safetensors")
        let ref = try Safetensors.read(fixtures + "/librosa_reference.safetensors").tensors
        let ours = out.tensors[fixtures + "/espeak_seven.wav"]!, theirs = ref["espeak_seven.mfcc"]!
        XCTAssertEqual(ours.shape, theirs.shape)
        let peak = theirs.scalars.map { abs($0) }.max()!
        XCTAssertLessThan(zip(ours.scalars, theirs.scalars).map { abs($0 - $1) }.max()! / peak, 1e-3)
        XCTAssertEqual(out.metadata["format"], "dlpipe.features.v1")
        // A bad file among good ones is reported and skipped.
        try "stages:\n  - read.audio: {path: .}\n  - audio.melspec:\n  - write.features: {path: out/mel.safetensors}\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        let s2 = try PipelineRunner.run(
            try PipelineConfig.load(conf, registry: registry), progress: ProgressReporter(quiet: true))
        XCTAssertEqual(s2.failures.map { ($0.file as NSString).lastPathComponent }, ["broken.wav"])
        XCTAssertEqual(s2.succeeded, 0)
    }

    func testRelativePathsAreNormalised() {
        XCTAssertEqual(PipelineConfig.lexicallyNormalized("pipelines/../data/./x.png"), "data/x.png")
        XCTAssertEqual(PipelineConfig.lexicallyNormalized("/a/b/../../c"), "/c")
        XCTAssertEqual(PipelineConfig.lexicallyNormalized("../../x"), "../../x")
    }
}

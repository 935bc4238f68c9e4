// Hand-made model files with out-of-range metadata: `dlpipe check` and `dlpipe run` answer with an
// error naming the file and the field (exit 2 / 1), never a trap (the first vision format trapped
// with SIGILL on each of these).
import XCTest
import TestSupport

final class ModelFileCLITests: ScratchFolderTestCase {

    /// A safetensors file with no tensors and this metadata (a few hundred bytes, as an attacker would make).
    func handMade(_ layers: String) throws -> String {
        let meta = ["format": "dlpipe.vision.v1", "layers": layers, "input": "[1,28,28]", "classes": "[\"a\",\"b\"]"]
        let body = try JSONSerialization.data(withJSONObject: ["__metadata__": meta])
        var len = UInt64(body.count).littleEndian
        let path = dir + "/hand.safetensors"
        try (Data(bytes: &len, count: 8) + body).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Every shipped pipeline that uses a model, checked before anything is trained: one wording, naming the
    /// missing file and the stage to run first (never the system's "No such file or directory").
    func testShippedPipelinesBeforeTrainingSayWhatToRunFirst() throws {
        try FileManager.default.copyItem(atPath: repoRoot + "/pipelines", toPath: dir + "/pipelines")
        let cases = [
            ("text-generate", "models/austen.safetensors", "text.train"),
            ("digits-classify", "models/digits.safetensors", "vision.train"),
            ("speech-classify", "models/speech.safetensors", "sequence.train"),
            ("gan-sample", "models/gan.safetensors", "gan.train"),
        ]
        for (pipeline, model, trainer) in cases {
            let r = try dlpipe(["check", "pipelines/\(pipeline).conf"], cwd: dir)
            XCTAssertEqual(r.status, 2, pipeline)
            XCTAssertTrue(
                r.stderr.contains("\(model): no model file there yet; train one first with a \(trainer) pipeline"),
                "\(pipeline): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("No such file"), "\(pipeline): \(r.stderr)")
        }
    }

    func testHandMadeModelMetadataIsAnErrorNotATrap() throws {
        try FileManager.default.createDirectory(atPath: dir + "/in", withIntermediateDirectories: true)
        let conf = dir + "/c.conf"
        try
            "stages:\n  - read.png: {path: in}\n  - vision.classify: {model: hand.safetensors}\n  - write.csv: {path: out.csv}\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        let cases = [
            ("[{\"maxpool\":{\"size\":0}}]", "maxpool.size = 0 is out of range"),
            (
                "[{\"conv\":{\"filters\":4,\"size\":3,\"stride\":0,\"padding\":0,\"activation\":\"relu\"}}]",
                "conv.stride = 0 is out of range"
            ),
            ("[{\"dense\":{\"units\":-1,\"activation\":\"relu\"}}]", "dense.units = -1 is out of range"),
            ("[{\"dropout\":{\"rate\":1.5}}]", "dropout takes a rate in [0, 1)"),
            (
                "[{\"dense\":{\"units\":4611686018427387904,\"activation\":\"relu\"}}]",
                "dense.units = 4611686018427387904 is out of range"
            ),
        ]
        for (layers, expected) in cases {
            let path = try handMade(layers)
            XCTAssertLessThan(try Data(contentsOf: URL(fileURLWithPath: path)).count, 400)
            let check = try dlpipe(["check", conf])
            XCTAssertEqual(check.status, 2, "\(layers): \(check.stderr)")
            XCTAssertTrue(
                check.stderr.contains("hand.safetensors: metadata 'layers' (layer 1): " + expected), check.stderr)
            let run = try dlpipe(["run", conf])
            XCTAssertEqual(run.status, 1, "\(layers): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(expected), run.stderr)
        }
    }
}

// Model files: a round trip keeps the network, and hand-made or corrupted metadata gets an error that
// names the field — the same range checks a config gets, never a trap.
import XCTest
import TestSupport
import Tensor
import NN
@testable import Training

final class ModelFileTests: ScratchFolderTestCase {

    func testRoundTripRebuildsTheSameNetwork() throws {
        let layers: [LayerSpec] = [
            .conv(ConvSpec(filters: 4, size: 3, padding: 1)), .maxpool(size: 2), .batchnorm,
            .dense(units: 8, activation: ActivationSpec(.leakyReLU, slope: 0.2), bias: true), .dropout(rate: 0.25),
            .classifierHead(classes: 3),
        ]
        let net = try Network(layers: layers, inputShape: [1, 6, 6], seed: 7)
        let model = ModelFile(
            task: "vision.train", layers: layers, inputShape: [1, 6, 6], labels: ["a", "b", "c"],
            preprocessing: ["input": "image"])
        try model.save(net, to: dir + "/m.safetensors")
        let (back, meta) = try ModelFile.load(dir + "/m.safetensors")
        XCTAssertEqual(meta, model)
        net.eval()
        let x = Tensor.uniform([2, 1, 6, 6], seed: 1)
        XCTAssertEqual(Autograd.noGrad { back(x) }.scalars, Autograd.noGrad { net(x) }.scalars)
    }

    /// A hand-made file: the given metadata and the tensors a network of `layers` would have.
    func handMade(_ meta: [String: String], tensors: [(String, Tensor)] = []) throws -> String {
        let path = dir + "/hand.safetensors"
        try Safetensors.write(tensors, metadata: meta, to: path)
        return path
    }

    func loadError(_ meta: [String: String], tensors: [(String, Tensor)] = []) throws -> String {
        do {
            _ = try ModelFile.load(try handMade(meta, tensors: tensors))
            return "loaded"
        } catch { return "\(error)" }
    }

    /// Hostile layer lists in the first format's metadata (hand-made files of a few hundred bytes).
    func testHandMadeVisionV1MetadataGetsClearErrors() throws {
        func v1(_ layers: String) -> [String: String] {
            ["format": "dlpipe.vision.v1", "layers": layers, "input": "[1,8,8]", "classes": "[\"a\",\"b\"]"]
        }
        let cases: [(String, String)] = [
            ("[{\"maxpool\":{\"size\":0}}]", "maxpool.size = 0 is out of range 1…16"),
            (
                "[{\"conv\":{\"filters\":4,\"size\":3,\"stride\":0,\"padding\":0,\"activation\":\"relu\"}}]",
                "conv.stride = 0 is out of range 1…8"
            ),
            ("[{\"dense\":{\"units\":-1,\"activation\":\"relu\"}}]", "dense.units = -1 is out of range 1…65536"),
            ("[{\"dropout\":{\"rate\":1.5}}]", "dropout takes a rate in [0, 1)"),
            (
                "[{\"dense\":{\"units\":9223372036854775807,\"activation\":\"relu\"}}]",
                "dense.units = 9223372036854775807 is out of range"
            ),
            ("[{\"dense\":{\"units\":1e300,\"activation\":\"relu\"}}]", "dense.units must be an integer"),
            (
                "[{\"conv\":{\"filters\":4,\"size\":3,\"stride\":1,\"padding\":0,\"activation\":\"swish\"}}]",
                "activation must be one of"
            ),
            ("{\"maxpool\":2}", "layers must be a non-empty list"),
            ("[[[[", "metadata 'layers' is not valid JSON"),
        ]
        for (layers, expected) in cases {
            let e = try loadError(v1(layers))
            XCTAssertTrue(e.contains("hand.safetensors") && e.contains(expected), "\(layers): \(e)")
            print("model-file error:", e)
        }
        XCTAssertTrue(try loadError(v1("[{\"maxpool\":{\"size\":0}}]")).contains("metadata 'layers' (layer 1)"))
        // A layer list whose sizes do not fit its input is refused by the builder, with the field named.
        XCTAssertTrue(
            try loadError(v1("[{\"conv\":{\"filters\":4,\"size\":15}}]")).contains("metadata 'layers' does not build"))
    }

    func testHandMadeMetadataFieldsAreEachChecked() throws {
        let good: [String: String] = [
            "format": "dlpipe.model", "version": "2", "task": "vision.train",
            "layers": "[{\"dense\":{\"units\":2,\"activation\":\"none\"}}]", "input": "[3]", "labels": "[\"a\",\"b\"]",
        ]
        func with(_ k: String, _ v: String?) -> [String: String] {
            var m = good
            m[k] = v
            return m
        }
        let w = Tensor.zeros([2, 3]), b = Tensor.zeros([2])
        let tensors = [("fc1.weight", w), ("fc1.bias", b)]
        XCTAssertEqual(try loadError(good, tensors: tensors), "loaded")
        XCTAssertTrue(
            try loadError(with("format", "other"), tensors: tensors).contains("not a dlpipe model (format 'other'"))
        XCTAssertTrue(try loadError(with("version", "9"), tensors: tensors).contains("version 9 is newer"))
        XCTAssertTrue(try loadError(with("input", "[0]"), tensors: tensors).contains("metadata 'input'"))
        XCTAssertTrue(
            try loadError(with("input", "[65536,65536,65536]"), tensors: tensors).contains("metadata 'input'"))
        XCTAssertTrue(try loadError(with("labels", "[\"a\",\"a\"]"), tensors: tensors).contains("names a class twice"))
        XCTAssertTrue(
            try loadError(with("labels", "[\"a\",\"b\",\"c\"]"), tensors: tensors).contains(
                "3 classes but the network has [2] outputs"))
        XCTAssertTrue(try loadError(with("labels", "[1,2]"), tensors: tensors).contains("metadata 'labels'"))
        XCTAssertTrue(try loadError(with("layers", nil), tensors: tensors).contains("no 'layers'"))
        XCTAssertTrue(try loadError(with("layers", "[]"), tensors: tensors).contains("found an empty list"))
        XCTAssertEqual(try loadError(with("results", "{\"test_accuracy\":0.9}"), tensors: tensors), "loaded")
        for bad in ["[1]", "{\"a\":\"x\"}", "{\"a\":1e999}", "nope"] {
            XCTAssertTrue(try loadError(with("results", bad), tensors: tensors).contains("metadata 'results'"), bad)
        }
        XCTAssertTrue(try loadError(with("layers", "{}"), tensors: tensors).contains("found an empty mapping"))
        XCTAssertTrue(try loadError(good, tensors: [("fc1.weight", w)]).contains("missing 'fc1.bias'"))
        XCTAssertTrue(
            try loadError(good, tensors: [("fc1.weight", Tensor.zeros([3, 3])), ("fc1.bias", b)]).contains(
                "model expects [2, 3]"))
        let nan = Tensor.zeros([2, 3])
        nan.data[4] = .nan
        XCTAssertTrue(
            try loadError(good, tensors: [("fc1.weight", nan), ("fc1.bias", b)]).contains("'fc1.weight' holds NaN"))
    }

    /// An ensemble's file: `members` checked like a config number, every tensor under a member's prefix.
    func testHandMadeEnsembleFilesAreChecked() throws {
        let good: [String: String] = [
            "format": "dlpipe.model", "version": "2", "task": "sequence.train", "members": "2",
            "layers": "[{\"dense\":{\"units\":2,\"activation\":\"none\"}}]", "input": "[3]", "labels": "[\"a\",\"b\"]",
        ]
        let w = Tensor.uniform([2, 3], seed: 1), b = Tensor.zeros([2])
        let pair = [
            ("member0.fc1.weight", w), ("member0.fc1.bias", b), ("member1.fc1.weight", w), ("member1.fc1.bias", b),
        ]
        let (nets, model) = try ModelFile.loadMembers(try handMade(good, tensors: pair))
        XCTAssertEqual(nets.count, 2)
        XCTAssertEqual(model.members, 2)
        func loadMembersError(_ meta: [String: String], _ tensors: [(String, Tensor)]) throws -> String {
            do {
                _ = try ModelFile.loadMembers(try handMade(meta, tensors: tensors))
                return "loaded"
            } catch { return "\(error)" }
        }
        for bad in ["0", "17", "two", "-1", "1e3"] {
            var m = good
            m["members"] = bad
            XCTAssertTrue(try loadMembersError(m, pair).contains("metadata 'members' must be a whole number"), bad)
        }
        XCTAssertTrue(
            try loadMembersError(good, pair + [("member2.fc1.bias", b)]).contains(
                "'member2.fc1.bias' belongs to none of the 2 members"))
        XCTAssertTrue(
            try loadMembersError(good, pair + [("fc1.bias", b)]).contains("'fc1.bias' belongs to none of the 2 members")
        )
        XCTAssertTrue(try loadMembersError(good, Array(pair.prefix(3))).contains("missing 'fc1.bias'"))
        XCTAssertTrue(try loadError(good, tensors: pair).contains("ensemble of 2 networks"))
    }
}

// Model averaging for the classify stages: the combined logits' softmax is the members' mean probability,
// one member is passed through untouched, and a member trained for another question is refused by name.
import Foundation
import XCTest
import TestSupport
import Tensor
import NN
import Pipeline
@testable import Training

final class ClassifierEnsembleTests: ScratchFolderTestCase {
    func testCombinedLogitsGiveTheMeanProbability() {
        let a = Tensor.uniform([5, 3], low: -4, high: 4, seed: 1),
            b = Tensor.uniform([5, 3], low: -4, high: 4, seed: 2)
        XCTAssertTrue(ClassifierEnsemble.averaged([a]) === a, "one member: its own logits")
        let combined = ClassifierEnsemble.averaged([a, b]).softmax(), pa = a.softmax(), pb = b.softmax()
        for i in 0..<15 { XCTAssertEqual(combined.data[i], (pa.data[i] + pb.data[i]) / 2, accuracy: 1e-6) }
        // A probability that underflows to 0 in every member still gives a finite logit.
        let sure = Tensor([200, -200, 0], shape: [1, 3])
        XCTAssertTrue(ClassifierEnsemble.averaged([sure, sure]).scalars.allSatisfy { $0.isFinite })
    }

    func testMembersMustAnswerTheSameQuestion() throws {
        let layers: [LayerSpec] = [.dense(units: 4, activation: .relu, bias: true), .classifierHead(classes: 3)]
        func save(
            _ name: String, labels: [String] = ["a", "b", "c"], input: [Int] = [6], task: String = "vision.train",
            preprocessing: [String: String] = ["input": "image"], seed: UInt64 = 1
        ) throws -> String {
            let net = try Network(layers: layers, inputShape: input, seed: seed)
            try ModelFile(task: task, layers: layers, inputShape: input, labels: labels, preprocessing: preprocessing)
                .save(net, to: dir + "/" + name)
            return dir + "/" + name
        }
        let first = try save("first.safetensors"), second = try save("second.safetensors", seed: 2)
        let both = try ClassifierEnsemble.load(
            model: first, others: [second], for: "vision.classify", trainer: "vision.train")
        XCTAssertEqual(both.members.count, 2)
        XCTAssertEqual(both.model.labels, ["a", "b", "c"])
        let x = Tensor.uniform([4, 6], seed: 3)
        // By hand: each member's softmax, averaged, against the softmax of the ensemble's logits.
        func softmaxRows(_ t: Tensor) -> [[Double]] {
            (0..<t.shape[0]).map { i in
                let row = (0..<3).map { Double(t.data[i * 3 + $0]) }, top = row.max()!
                let e = row.map { Foundation.exp($0 - top) }, sum = e.reduce(0, +)
                return e.map { $0 / sum }
            }
        }
        let pa = softmaxRows(Inference.run(both.members[0], x)), pb = softmaxRows(Inference.run(both.members[1], x))
        XCTAssertNotEqual(pa, pb, "two seeds, two different models")
        let combined = softmaxRows(both.logits { Inference.run($0, x) })
        for i in 0..<4 { for c in 0..<3 { XCTAssertEqual(combined[i][c], (pa[i][c] + pb[i][c]) / 2, accuracy: 1e-6) } }

        let refused = [
            (try save("classes.safetensors", labels: ["a", "b", "d"]), "its classes differ from those of \(first)"),
            (try save("input.safetensors", input: [7]), "its input shape [7] and [6] differ"),
            (try save("prep.safetensors", preprocessing: ["input": "other"]), "its preprocessing settings differ"),
            (try save("task.safetensors", task: "sequence.train"), "a sequence.train model, not a vision.train one"),
            (dir + "/missing.safetensors", "missing.safetensors"),
        ]
        for (other, fragment) in refused {
            XCTAssertThrowsError(
                try ClassifierEnsemble.load(
                    model: first, others: [second, other], for: "vision.classify", trainer: "vision.train")
            ) { e in
                let message = "\(e)"
                XCTAssertTrue(
                    message.contains("vision.classify") && message.contains(other) && message.contains(fragment),
                    message)
            }
        }
    }
}

// A run whose loss stops being finite ends there, saying where, instead of training on and writing a
// model of NaN.
import XCTest
import Tensor
import NN
import Pipeline
@testable import Training

final class DivergenceTests: XCTestCase {
    func testNonFiniteLossStopsTrainingWithEpochStepAndCheckpoint() throws {
        let net = try Network(
            layers: [.dense(units: 4, activation: .relu, bias: true), .classifierHead(classes: 2)], inputShape: [3],
            seed: 1)
        let group = ParameterGroup("model", parameters: net.parameters, settings: OptimizerSettings())
        let trainer = ClassifierTrainer(net: net, group: group, throughputName: "examples_per_s")
        let good = LabelledBatch(x: Tensor.uniform([2, 3], seed: 2), labels: [0, 1])
        let bad = LabelledBatch(x: Tensor([1, .nan, 0, 1, 2, 3], shape: [2, 3]), labels: [0, 1])
        let ctx = RunContext(progress: ProgressReporter(quiet: true), stopOnError: false)
        let before = net.parameters.map { $0.scalars }
        XCTAssertThrowsError(
            try trainer.epoch(
                4, of: 10, batches: [good, bad], batchCount: 2, validation: nil, ctx: ctx, lastCheckpoint: "m.ckpt")
        ) { e in
            XCTAssertEqual(
                "\(e)",
                "training diverged: the loss is nan at epoch 5, step 2 (lower learning_rate or set clip_norm); the last good checkpoint is m.ckpt"
            )
        }
        XCTAssertNotEqual(net.parameters.map { $0.scalars }, before, "the good step was taken")
        XCTAssertTrue(net.parameters.allSatisfy { $0.scalars.allSatisfy { $0.isFinite } }, "the bad step was not")
    }

    /// Every trainer's guard (the GAN's two losses too) names the loss, the place, the fix and the checkpoint.
    func testTheGuardNamesTheLossAndTheCheckpoint() throws {
        XCTAssertNoThrow(try FiniteLossGuard.check(1.5, epoch: 0, step: 0, lastCheckpoint: "never read"))
        XCTAssertThrowsError(
            try FiniteLossGuard.check(
                .infinity, name: "generator loss", epoch: 2, step: 40, lastCheckpoint: "g.ckpt",
                hint: "lower generator_learning_rate")
        ) { e in
            XCTAssertEqual(
                "\(e)",
                "training diverged: the generator loss is inf at epoch 3, step 41 (lower generator_learning_rate); the last good checkpoint is g.ckpt"
            )
        }
        XCTAssertThrowsError(try FiniteLossGuard.check(.nan, epoch: 0, step: 0, lastCheckpoint: nil)) { e in
            XCTAssertEqual(
                "\(e)", "training diverged: the loss is nan at epoch 1, step 1 (lower learning_rate or set clip_norm)")
        }
    }
}

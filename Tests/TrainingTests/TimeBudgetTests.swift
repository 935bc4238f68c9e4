// A time budget: after each epoch the epochs that fit are planned from the time taken so far, the learning-rate
// schedule runs over them, training stops there, and the report says so.
import Foundation
import NN
import Pipeline
import Tensor
import XCTest

@testable import Training

final class TimeBudgetTests: XCTestCase {
    func run(budgetMinutes: Double, epochSeconds: Double) throws -> (
        epochs: Int, rates: [Float], report: TrainingReport
    ) {
        var loop = LoopSettings(epochs: 50, batchSize: 1)
        loop.timeBudget = budgetMinutes
        loop.checkpointPath = nil
        let settings = OptimizerSettings(learningRate: 0.1, schedule: .cosine)
        let group = ParameterGroup("model", parameters: [Tensor.zeros([2])], settings: settings)
        let ctx = RunContext(progress: ProgressReporter(quiet: true), stopOnError: false)
        let training = TrainingLoop(
            stage: "test", settings: loop, networks: [], groups: [group],
            fingerprint: TrainingFingerprint(network: "", data: "", settings: ""), random: SeededRandom(seed: 1),
            report: TrainingReport(title: "t"), ctx: ctx)
        var rates: [Float] = []
        try training.run { _ in
            rates.append(group.optimizer.learningRate)
            Thread.sleep(forTimeInterval: epochSeconds)
            return [Metric("loss", 1)]
        }
        return (training.epochsDone, rates, training.report)
    }

    func testTrainingStopsWhenTheBudgetIsSpentWithTheScheduleOverTheEpochsThatFit() throws {
        // 0.02 s epochs in a 0.005-minute (0.3 s) budget: about fifteen fit (fewer on a loaded machine), never fifty.
        let r = try run(budgetMinutes: 0.005, epochSeconds: 0.02)
        XCTAssertGreaterThanOrEqual(r.epochs, 2)
        XCTAssertLessThanOrEqual(r.epochs, 40)
        XCTAssertEqual(r.report.epochs.count, r.epochs)
        // The last epoch runs at the end of a cosine schedule planned over the epochs that fit, not over fifty.
        let settings = OptimizerSettings(learningRate: 0.1, schedule: .cosine)
        XCTAssertEqual(r.rates.last!, settings.learningRate(epoch: r.epochs - 1, of: r.epochs), accuracy: 1e-7)
        XCTAssertLessThan(r.rates.last!, settings.learningRate(epoch: r.epochs - 1, of: 50))
        let note = try XCTUnwrap(r.report.settings.first { $0.0 == "time budget" }?.1)
        XCTAssertTrue(note.contains("stopped after \(r.epochs) of 50 epochs"), note)
    }

    func testWithoutABudgetEveryEpochRuns() throws {
        let r = try run(budgetMinutes: 0, epochSeconds: 0)
        XCTAssertEqual(r.epochs, 50)
        XCTAssertNil(r.report.settings.first { $0.0 == "time budget" })
    }
}

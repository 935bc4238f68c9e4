// The weight average: its batch-norm statistics are measured again on its own outputs before use.
import XCTest
import Tensor
import NN
@testable import Training

final class WeightAverageTests: XCTestCase {
    func testRecalibrationMeasuresTheAveragesOwnStatistics() throws {
        let layers: [LayerSpec] = [.dense(units: 3, activation: .none, bias: true), .batchnorm]
        let net = try Network(layers: layers, inputShape: [4], seed: 2)
        let average = try WeightAverage(of: net, decay: 0.5)
        // The source moves away; the average follows halfway, so its pre-norm outputs differ from the source's.
        for p in net.parameters { for i in 0..<p.count { p.data[i] += 1 } }
        average.update()
        let x = Tensor.uniform([64, 4], low: -1, high: 1, seed: 3)
        average.recalibrate(batches: 100) { x }
        let dense = average.average.children.first { $0.0 == "fc1" }!.1 as! Dense
        let pre = Autograd.noGrad { x.linear(dense.weight, bias: dense.bias) }
        let stats = Dictionary(uniqueKeysWithValues: average.average.stateDict())
        for c in 0..<3 {
            let column = (0..<64).map { pre.data[$0 * 3 + c] }
            let mean = column.reduce(0, +) / 64
            XCTAssertEqual(stats["bn1.running_mean"]!.data[c], mean, accuracy: 1e-3, "channel \(c)")
        }
        let bn = average.average.children.first { $0.0 == "bn1" }!.1 as! BatchNorm
        XCTAssertFalse(bn.training, "left in evaluation mode")
    }
}

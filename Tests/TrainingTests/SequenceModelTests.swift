// A recurrent network from the layer list: PyTorch's names, and a tiny LSTM that learns a sequence task
// from variable-length batches well above chance.
import XCTest
import Tensor
import NN
import Pipeline
@testable import Training

final class SequenceModelTests: XCTestCase {
    func testLSTMLayerNamesAndShapes() throws {
        let layers = try LayerListParser.parse(
            try configTree("layers: [{lstm: {hidden: 8, layers: 2}}, {dense: {units: 3, activation: none}}]\n")[
                "layers"]!)
        XCTAssertEqual(layers[0], .recurrent(RecurrentSpec(.lstm, hidden: 8, layers: 2)))
        let net = try Network(layers: layers, inputShape: [10, 5], seed: 1)
        XCTAssertEqual(
            net.namedParameters().map { $0.0 },
            [
                "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0",
                "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1",
                "fc1.weight", "fc1.bias",
            ])
        XCTAssertEqual(net.namedParameters().first { $0.0 == "lstm.weight_ih_l1" }?.1.shape, [32, 8])
        XCTAssertEqual(net.parameterCount, try MemoryEstimate.of(layers, input: [10, 5]).parameters)
        XCTAssertEqual(net(Tensor.uniform([4, 10, 5], seed: 2), lengths: [10, 3, 1, 7]).shape, [4, 3])
    }

    /// Which of three frequencies a noisy sine of 4–12 steps has: chance is 1/3.
    func testTinyLSTMAndGRULearnAVariableLengthSequenceTask() throws {
        for kind in [Recurrent.Kind.lstm, .gru] { try learn(kind) }
    }

    func learn(_ kind: Recurrent.Kind) throws {
        var rng = SeededRandom(seed: 5)
        func example() -> (Tensor, Int) {
            let label = rng.nextInt(3), t = 4 + rng.nextInt(9), phase = rng.nextFloat() * 6
            let x = Tensor(
                (0..<t).map { Foundation.sin(phase + Float($0) * [0.3, 1.1, 2.4][label]) + 0.1 * rng.nextNormal() },
                shape: [t, 1])
            return (x, label)
        }
        let train = (0..<600).map { _ in example() }, test = (0..<200).map { _ in example() }
        let net = try Network(
            layers: [.recurrent(RecurrentSpec(kind, hidden: 16)), .dense(units: 3, activation: .none, bias: true)],
            inputShape: [12, 1], seed: 3)
        var settings = OptimizerSettings()
        settings.learningRate = 0.01
        let group = ParameterGroup("model", parameters: net.parameters, settings: settings)
        let source = SequenceBatches(sequences: train.map { $0.0 }, labels: train.map { $0.1 })
        for epoch in 0..<15 {
            for b in BatchLoader(source, batchSize: 32, seed: UInt64(epoch)) {
                group.zeroGrad()
                let loss = Loss.crossEntropy(net(b.x, lengths: b.lengths), labels: b.labels)
                loss.backward()
                group.step()
            }
        }
        net.eval()
        let batch = Array(
            BatchLoader(
                SequenceBatches(sequences: test.map { $0.0 }, labels: test.map { $0.1 }), batchSize: 200, shuffle: false
            ))[0]
        let predicted = Autograd.noGrad { net(batch.x, lengths: batch.lengths) }.argmaxRows()
        let accuracy = Double(zip(predicted, batch.labels).filter { $0 == $1 }.count) / 200
        print("tiny \(kind), 3 frequencies, lengths 4–12: held-out accuracy \(accuracy)")
        XCTAssertGreaterThan(accuracy, 0.8)
    }
}

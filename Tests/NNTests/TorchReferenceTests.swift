// Our ops against PyTorch 1.13 on the same inputs (fixture made by scripts/make-torch-golden.py):
// outputs and input gradients must agree to ~1e-4; the max difference is printed per tensor.
import XCTest
import Tensor
@testable import NN

final class TorchReferenceTests: XCTestCase {
    static let golden: [String: Tensor] = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/torch_golden.safetensors").path
        return try! Safetensors.read(path).tensors
    }()

    func g(_ k: String) -> Tensor {
        guard let t = Self.golden[k] else { fatalError("fixture has no \(k)") }
        return t.copy()
    }

    func assertClose(
        _ name: String, _ a: Tensor, _ b: Tensor, tol: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(a.shape, b.shape, name, file: file, line: line)
        guard a.shape == b.shape else { return }
        var m: Float = 0
        for i in 0..<a.count { m = max(m, abs(a.data[i] - b.data[i]) / max(1, abs(b.data[i]))) }
        print("TENSOR \(m <= tol ? "OK" : "BAD") \(name): maxdiff = \(m)")
        XCTAssertLessThanOrEqual(m, tol, name, file: file, line: line)
    }

    /// Runs `f` on the fixture inputs of `name`, compares output and every input gradient.
    func check(_ name: String, inputs: Int, _ f: ([Tensor]) -> Tensor) {
        let xs = (0..<inputs).map { i -> Tensor in
            let t = g("\(name).in\(i)")
            t.requiresGrad = true
            return t
        }
        let y = f(xs)
        assertClose("\(name) output", y, g("\(name).out"))
        (y * g("\(name).w")).sum().backward()
        for (i, x) in xs.enumerated() { assertClose("\(name) grad \(i)", x.grad!, g("\(name).grad\(i)")) }
    }

    func testLSTMAndGRUMatchPyTorch() {
        // Lengths 5, 2, 1 in one batch (scripts/make-torch-golden.py packs them for nn.LSTM's kernel).
        check("lstm_seq", inputs: 5) { $0[0].lstm($0[1], $0[2], $0[3], $0[4], lengths: [5, 2, 1], sequence: true) }
        check("lstm_last", inputs: 5) { $0[0].lstm($0[1], $0[2], $0[3], $0[4], lengths: [5, 2, 1], sequence: false) }
        check("gru_seq", inputs: 5) { $0[0].gru($0[1], $0[2], $0[3], $0[4], lengths: [5, 2, 1], sequence: true) }
        check("gru_last", inputs: 5) { $0[0].gru($0[1], $0[2], $0[3], $0[4], lengths: [5, 2, 1], sequence: false) }
    }

    func testBidirectionalLSTMMatchesPyTorch() {
        // nn.LSTM(4, 3, num_layers=2, bidirectional=True) on lengths 5, 2, 1: our layer, given its state_dict
        // under the same names, gives the same padded sequence and h_n, input and parameter gradients.
        for (name, sequence) in [("bilstm_seq", true), ("bilstm_last", false)] {
            let layer = Recurrent(.lstm, 4, hidden: 3, layers: 2, sequence: sequence, bidirectional: true)
            XCTAssertEqual(
                layer.ownParameters.map { $0.0 }.filter { Self.golden["\(name).\($0)"] == nil }, [],
                "names PyTorch does not have")
            for (key, p) in layer.ownParameters { p.data.update(from: g("\(name).\(key)").data, count: p.count) }
            let x = g("\(name).in")
            x.requiresGrad = true
            let y = layer(x, lengths: [5, 2, 1])
            assertClose("\(name) output", y, g("\(name).out"))
            (y * g("\(name).w")).sum().backward()
            assertClose("\(name) input grad", x.grad!, g("\(name).grad"))
            for (key, p) in layer.ownParameters {
                assertClose("\(name) grad \(key)", p.grad!, g("\(name).grad.\(key)"))
            }
        }
    }

    func testLayersMatchPyTorch() {
        check("linear", inputs: 3) { $0[0].linear($0[1], bias: $0[2]) }
        check("conv_s1p1", inputs: 3) { $0[0].conv2d($0[1], bias: $0[2], stride: 1, padding: 1) }
        check("conv_s2", inputs: 2) { $0[0].conv2d($0[1], stride: 2) }
        check("convT", inputs: 3) { $0[0].convTranspose2d($0[1], bias: $0[2], stride: 2, padding: 1, outputPadding: 1) }
        check("conv1d_s2p1", inputs: 3) { x in
            // The Conv1D layer's own computation, with the fixture's weight [Cout, Cin, K] and bias.
            let layer = Conv1D(4, 5, kernelSize: 3, stride: 2, padding: 1)
            XCTAssertEqual(layer.weight.shape, x[1].shape, "nn.Conv1d's weight shape")
            return x[0].timePatches(kernel: 3, stride: 2, padding: 1).linear(x[1].reshaped([5, 12]), bias: x[2])
                .reshaped([3, -1, 5])
        }
        check("maxpool", inputs: 1) { $0[0].maxPool2d(2) }
        check("avgpool", inputs: 1) { $0[0].avgPool2d(2) }
        check("logsoftmax", inputs: 1) { $0[0].logSoftmax(axis: 1) }
        check("bn_train", inputs: 3) {
            $0[0].batchNorm(
                weight: $0[1], bias: $0[2], runningMean: .zeros([3]), runningVar: .ones([3]), training: true)
        }
    }

    func testFusedLossesMatchPyTorch() {
        let logits = g("ce.logits")
        logits.requiresGrad = true
        let labels = g("ce.labels").scalars.map { Int($0) }
        let ce = Loss.crossEntropy(logits, labels: labels)
        XCTAssertEqual(ce.item, g("ce.loss").item, accuracy: 1e-5)
        ce.backward()
        assertClose("cross-entropy grad", logits.grad!, g("ce.grad"))

        let bl = g("bce.logits")
        bl.requiresGrad = true
        let bce = Loss.bceWithLogits(bl, g("bce.target"))
        XCTAssertEqual(bce.item, g("bce.loss").item, accuracy: 1e-5)
        bce.backward()
        assertClose("bce-with-logits grad", bl.grad!, g("bce.grad"))
    }

    func testMSEValueAndGradient() {
        let p = Tensor([1, 2, 3, 4], shape: [2, 2])
        p.requiresGrad = true
        let t = Tensor([0, 2, 5, 4], shape: [2, 2])
        let l = Loss.mse(p, t)
        XCTAssertEqual(l.item, (1 + 0 + 4 + 0) / 4)
        l.backward()
        XCTAssertEqual(p.grad!.scalars, [0.5, 0, -1, 0])  // 2(p−t)/N
    }
}

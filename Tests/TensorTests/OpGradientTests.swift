// Every differentiable op's backward against finite differences, on odd sizes.
import XCTest
@testable import Tensor

final class OpGradientTests: XCTestCase {
    func testArithmeticWithBroadcasting() {
        checkGradients("add [3,5]+[5]", [rnd([3, 5], seed: 1), rnd([5], seed: 2)]) { $0[0] + $0[1] }
        checkGradients("sub [3,1,4]-[2,1]", [rnd([3, 1, 4], seed: 3), rnd([2, 1], seed: 4)]) { $0[0] - $0[1] }
        checkGradients("mul [2,3,5]*[3,1]", [rnd([2, 3, 5], seed: 5), rnd([3, 1], seed: 6)]) { $0[0] * $0[1] }
        checkGradients("div [4,3]/[4,1]", [rnd([4, 3], seed: 7), rnd([4, 1], seed: 8, low: 0.5, high: 2)]) {
            $0[0] / $0[1]
        }
        checkGradients("scalar affine", [rnd([7], seed: 9)]) { 3 - $0[0] * 2.5 + 1 }
        checkGradients("expand [3,1]→[2,3,4]", [rnd([3, 1], seed: 10)]) { $0[0].expanded(to: [2, 3, 4]) }
    }

    func testPointwise() {
        checkGradients("exp", [rnd([3, 7], seed: 11)]) { $0[0].exp() }
        checkGradients("log", [rnd([3, 7], seed: 12, low: 0.3, high: 3)]) { $0[0].log() }
        checkGradients("sqrt", [rnd([3, 7], seed: 13, low: 0.3, high: 3)]) { $0[0].sqrt() }
        checkGradients("relu", [rnd([5, 7], seed: 14)], eps: 1e-3) { $0[0].relu() }
        checkGradients("leakyReLU", [rnd([5, 7], seed: 15)], eps: 1e-3) { $0[0].leakyReLU(0.2) }
        checkGradients("sigmoid", [rnd([5, 7], seed: 16, low: -4, high: 4)]) { $0[0].sigmoid() }
        checkGradients("tanh", [rnd([5, 7], seed: 17, low: -3, high: 3)]) { $0[0].tanh() }
        checkGradients("squared", [rnd([9], seed: 18)]) { $0[0].squared() }
    }

    func testReductions() {
        checkGradients("sum", [rnd([3, 5], seed: 20)]) { $0[0].sum() }
        checkGradients("mean", [rnd([3, 5], seed: 21)]) { $0[0].mean() }
        checkGradients("sum axes [0,2]", [rnd([3, 5, 7], seed: 22)]) { $0[0].sum(axes: [0, 2]) }
        checkGradients("mean axis 1 keepDims", [rnd([3, 5, 7], seed: 23)]) { $0[0].mean(axes: [1], keepDims: true) }
        checkGradients("max axis 1", [rnd([3, 5, 7], seed: 24)], eps: 1e-3) { $0[0].max(axis: 1) }
        checkGradients("max axis -1", [rnd([4, 9], seed: 25)], eps: 1e-3) { $0[0].max(axis: -1, keepDims: true) }
    }

    func testLSTMAndGRUAgainstFiniteDifferences() {
        // B = 3 sequences of lengths 3, 1 and 2 (padded to T = 3), I = 2 inputs, H = 3; also all of length 1.
        let w = [
            rnd([12, 2], seed: 60, low: -0.8, high: 0.8), rnd([12, 3], seed: 61, low: -0.8, high: 0.8),
            rnd([12], seed: 62, low: -0.5, high: 0.5), rnd([12], seed: 63, low: -0.5, high: 0.5),
        ]
        for sequence in [false, true] {
            checkGradients("lstm lengths [3,1,2] sequence \(sequence)", [rnd([3, 3, 2], seed: 64)] + w, eps: 1e-2) {
                $0[0].lstm($0[1], $0[2], $0[3], $0[4], lengths: [3, 1, 2], sequence: sequence)
            }
            checkGradients("lstm one step sequence \(sequence)", [rnd([2, 1, 2], seed: 65)] + w, eps: 1e-2) {
                $0[0].lstm($0[1], $0[2], $0[3], $0[4], sequence: sequence)
            }
        }
        let wg = [
            rnd([9, 2], seed: 70, low: -0.8, high: 0.8), rnd([9, 3], seed: 71, low: -0.8, high: 0.8),
            rnd([9], seed: 72, low: -0.5, high: 0.5), rnd([9], seed: 73, low: -0.5, high: 0.5),
        ]
        for sequence in [false, true] {
            checkGradients("gru lengths [3,1,2] sequence \(sequence)", [rnd([3, 3, 2], seed: 74)] + wg, eps: 1e-2) {
                $0[0].gru($0[1], $0[2], $0[3], $0[4], lengths: [3, 1, 2], sequence: sequence)
            }
            checkGradients("gru one step sequence \(sequence)", [rnd([2, 1, 2], seed: 75)] + wg, eps: 1e-2) {
                $0[0].gru($0[1], $0[2], $0[3], $0[4], sequence: sequence)
            }
        }
        // Seven sequences: split over two cores with W_hh packed (three or more rows each).
        checkGradients("lstm 7 sequences lengths [4,1,3,4,2,1,3]", [rnd([7, 4, 2], seed: 67)] + w, eps: 1e-2) {
            $0[0].lstm($0[1], $0[2], $0[3], $0[4], lengths: [4, 1, 3, 4, 2, 1, 3], sequence: true)
        }
        checkGradients("gru 7 sequences lengths [4,1,3,4,2,1,3]", [rnd([7, 4, 2], seed: 76)] + wg, eps: 1e-2) {
            $0[0].gru($0[1], $0[2], $0[3], $0[4], lengths: [4, 1, 3, 4, 2, 1, 3], sequence: false)
        }
        // A padded sequence's last state is the state at its own last frame.
        let x = rnd([1, 4, 2], seed: 66)
        let short = x.narrowed(axis: 1, 0..<2).copy()
        XCTAssertEqual(
            Autograd.noGrad { x.lstm(w[0], w[1], w[2], w[3], lengths: [2], sequence: false) }.scalars,
            Autograd.noGrad { short.lstm(w[0], w[1], w[2], w[3], sequence: false) }.scalars)
    }

    func testMeanOverTime() {
        checkGradients("mean over time, lengths [3, 1, 2]", [rnd([3, 3, 4], seed: 90)]) {
            $0[0].meanOverTime(lengths: [3, 1, 2])
        }
        let x = rnd([1, 3, 2], seed: 91)
        XCTAssertEqual(
            Autograd.noGrad { x.meanOverTime(lengths: [2]) }.scalars,
            [(x.scalars[0] + x.scalars[2]) / 2, (x.scalars[1] + x.scalars[3]) / 2], "padding is not counted")
    }

    func testTimePatchesAndZeroingBeyondLengths() {
        // Odd sizes, padding past the kernel's reach, stride 1 and 3, a batch of 1 and of 3.
        for (k, s, p) in [(3, 1, 1), (5, 3, 2), (2, 2, 0), (4, 1, 4)] {
            checkGradients("time patches k\(k) s\(s) p\(p)", [rnd([3, 7, 2], seed: 93)]) {
                $0[0].timePatches(kernel: k, stride: s, padding: p)
            }
        }
        checkGradients("time patches, batch 1, one frame", [rnd([1, 1, 3], seed: 94)]) {
            $0[0].timePatches(kernel: 3, stride: 1, padding: 0)
        }
        checkGradients("zeroed beyond lengths [3, 1, 2]", [rnd([3, 3, 2], seed: 95)]) {
            $0[0].zeroedBeyond(lengths: [3, 1, 2])
        }
        // Row j of the patches holds frames j·s − p … in channel-major order; zeros outside the sequence.
        let x = Tensor([1, 10, 2, 20, 3, 30], shape: [1, 3, 2])
        XCTAssertEqual(
            Autograd.noGrad { x.timePatches(kernel: 2, stride: 2, padding: 1) }.scalars, [0, 1, 0, 10, 2, 3, 20, 30])
        XCTAssertEqual(Autograd.noGrad { x.zeroedBeyond(lengths: [2]) }.scalars, [1, 10, 2, 20, 0, 0])
        XCTAssertEqual(
            Tensor.timeConvLength(2, kernel: 5, stride: 1, padding: 0), 1, "shorter than the kernel: one frame")
    }

    func testShiftedWithCutout() {
        // Moves in every direction, a square over the edge, none at all; odd sizes, two channels.
        let changes = [
            ShiftCutout(dy: 1, dx: -2, top: 2, left: 1, size: 2), ShiftCutout(dy: -1, dx: 0, top: -1, left: 3, size: 3),
            ShiftCutout(),
        ]
        checkGradients("shifted with cutout", [rnd([3, 2, 5, 4], seed: 96)]) {
            $0[0].shiftedWithCutout(changes, fill: -1)
        }
        let x = Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2])
        XCTAssertEqual(
            Autograd.noGrad { x.shiftedWithCutout([ShiftCutout(dy: 0, dx: 1)], fill: -1) }.scalars, [-1, 1, -1, 3])
        XCTAssertEqual(
            Autograd.noGrad { x.shiftedWithCutout([ShiftCutout(top: 1, left: 1, size: 1)], fill: 0) }.scalars,
            [1, 2, 3, 0])
    }

    func testReversedInTime() {
        checkGradients("reversed in time, lengths [3, 1, 2]", [rnd([3, 3, 2], seed: 92)]) {
            $0[0].reversedInTime(lengths: [3, 1, 2])
        }
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3, 1])
        XCTAssertEqual(
            Autograd.noGrad { x.reversedInTime(lengths: [3, 2]) }.scalars, [3, 2, 1, 5, 4, 6], "padding stays in place")
    }

    func testCarriedStateContinuesASequence() {
        // Four steps at once equal two steps, then two more from the carried state (LSTM and GRU).
        let x = rnd([5, 4, 2], seed: 80)
        let first = x.narrowed(axis: 1, 0..<2).copy(), second = x.narrowed(axis: 1, 2..<4).copy()
        for (gates, run) in [
            (
                4,
                { (x: Tensor, w: [Tensor], s: RecurrentState?) in
                    x.lstm(w[0], w[1], w[2], w[3], sequence: true, state: s)
                }
            ),
            (
                3,
                { (x: Tensor, w: [Tensor], s: RecurrentState?) in
                    x.gru(w[0], w[1], w[2], w[3], sequence: true, state: s)
                }
            ),
        ] {
            let w = [
                rnd([gates * 3, 2], seed: 81), rnd([gates * 3, 3], seed: 82), rnd([gates * 3], seed: 83),
                rnd([gates * 3], seed: 84),
            ]
            let whole = Autograd.noGrad { run(x, w, nil) }
            let state = RecurrentState()
            let a = Autograd.noGrad { run(first, w, state) }, b = Autograd.noGrad { run(second, w, state) }
            for r in 0..<5 {
                let expected = Array(whole.scalars[(r * 12)..<(r * 12 + 12)])
                let got = Array(a.scalars[(r * 6)..<(r * 6 + 6)]) + Array(b.scalars[(r * 6)..<(r * 6 + 6)])
                for (e, g) in zip(expected, got) {
                    XCTAssertEqual(e, g, accuracy: 1e-6, "\(gates) gates, sequence \(r)")
                }
            }
            state.reset()
            XCTAssertEqual(
                Autograd.noGrad { run(first, w, state) }.scalars, a.scalars, "a reset state starts from zeros")
        }
    }

    func testSoftmax() {
        checkGradients("softmax last", [rnd([3, 7], seed: 30, low: -3, high: 3)]) { $0[0].softmax() }
        checkGradients("softmax axis 1 of 3-D", [rnd([2, 5, 3], seed: 31, low: -3, high: 3)]) { $0[0].softmax(axis: 1) }
        checkGradients("logSoftmax last", [rnd([3, 11], seed: 32, low: -3, high: 3)]) { $0[0].logSoftmax() }
        checkGradients("logSoftmax axis 0", [rnd([5, 3], seed: 33, low: -3, high: 3)]) { $0[0].logSoftmax(axis: 0) }
    }

    func testShapeOps() {
        checkGradients("reshape", [rnd([3, 10], seed: 40)]) { $0[0].reshaped([5, -1]) * $0[0].reshaped([5, 6]) }
        checkGradients("permute", [rnd([2, 3, 5], seed: 41)]) { $0[0].permuted([2, 0, 1]) }
        checkGradients("transpose", [rnd([3, 7], seed: 42)]) { $0[0].transposed() }
        checkGradients("slice", [rnd([5, 3], seed: 43)]) { $0[0].slice(1..<4) }
        checkGradients("concat axis 1", [rnd([2, 3], seed: 44), rnd([2, 5], seed: 45)]) { Tensor.concat($0, axis: 1) }
        checkGradients("concat axis 2 of 3-D", [rnd([2, 3, 1], seed: 48), rnd([2, 3, 4], seed: 49)]) {
            Tensor.concat($0, axis: 2)
        }
        checkGradients("narrowed axis 0", [rnd([5, 3], seed: 50)]) { $0[0].narrowed(axis: 0, 2..<5) }
        checkGradients("narrowed axis 1 of 3-D", [rnd([2, 7, 3], seed: 51)]) { $0[0].narrowed(axis: 1, 2..<6) }
        checkGradients("narrowed last axis", [rnd([3, 8], seed: 52)]) { $0[0].narrowed(axis: -1, 0..<1) }
        checkGradients("chunked 4 on axis 1, recombined", [rnd([2, 8], seed: 53)]) { x in
            let c = x[0].chunked(4, axis: 1)
            return c[0] * c[1] + c[2].tanh() - c[3]
        }
        checkGradients("stack axis 0", [rnd([3, 2], seed: 46), rnd([3, 2], seed: 47)]) { Tensor.stack($0, axis: 0) }
    }

    func testMatmul() {
        checkGradients("matmul 2-D", [rnd([5, 7], seed: 50), rnd([7, 3], seed: 51)]) { $0[0].matmul($0[1]) }
        checkGradients("batched matmul", [rnd([2, 3, 5], seed: 52), rnd([2, 5, 4], seed: 53)]) { $0[0].matmul($0[1]) }
        checkGradients("3-D · shared 2-D", [rnd([2, 3, 5], seed: 54), rnd([5, 4], seed: 55)]) { $0[0].matmul($0[1]) }
    }

    func testConvolutions() {
        checkGradients(
            "conv2d s1 p1 +bias", [rnd([2, 3, 7, 6], seed: 60), rnd([4, 3, 3, 3], seed: 61), rnd([4], seed: 62)]
        ) {
            $0[0].conv2d($0[1], bias: $0[2], stride: 1, padding: 1)
        }
        checkGradients("conv2d s2 p0 5x5", [rnd([3, 2, 9, 9], seed: 63), rnd([3, 2, 5, 5], seed: 64)]) {
            $0[0].conv2d($0[1], stride: 2)
        }
        checkGradients(
            "conv2d fused relu", [rnd([2, 2, 5, 5], seed: 65), rnd([3, 2, 3, 3], seed: 66), rnd([3], seed: 67)],
            eps: 1e-3
        ) { $0[0].conv2d($0[1], bias: $0[2], padding: 1, relu: true) }
        // ≥ 8 input channels and ≥ 2 images: the forward runs as Winograd F(2×2, 3×3). (Its fused ReLU is
        // checked against im2col + GEMM in KernelTests: with this many pre-activations, finite differences
        // straddle the kink.)
        XCTAssertTrue(
            Winograd.applies(ConvGeometry(c: 8, h: 6, w: 5, kh: 3, kw: 3, stride: 1, pad: 1), inChannels: 8, batch: 2))
        checkGradients(
            "winograd conv p1", [rnd([2, 8, 6, 5], seed: 73), rnd([8, 8, 3, 3], seed: 74), rnd([8], seed: 75)]
        ) {
            $0[0].conv2d($0[1], bias: $0[2], padding: 1)
        }
        checkGradients("winograd conv p0 odd", [rnd([2, 9, 7, 9], seed: 76), rnd([8, 9, 3, 3], seed: 77)]) {
            $0[0].conv2d($0[1])
        }
        checkGradients(
            "winograd conv p2", [rnd([3, 8, 4, 4], seed: 78), rnd([10, 8, 3, 3], seed: 79), rnd([10], seed: 85)]
        ) {
            $0[0].conv2d($0[1], bias: $0[2], padding: 2)
        }
        // The fused conv + ReLU + 2×2 max-pool: Winograd forward, sparse pooled-gradient backward.
        checkGradients(
            "conv relu maxpool fused",
            [rnd([2, 8, 6, 7], seed: 86), rnd([4, 8, 3, 3], seed: 87), rnd([4], seed: 88)],
            eps: 1e-3
        ) { $0[0].conv2dReluMaxPool2($0[1], bias: $0[2], padding: 1) }
        checkGradients(
            "convTranspose2d s2 p1 op1",
            [rnd([2, 3, 4, 5], seed: 68), rnd([3, 2, 3, 3], seed: 69), rnd([2], seed: 70)]
        ) {
            $0[0].convTranspose2d($0[1], bias: $0[2], stride: 2, padding: 1, outputPadding: 1)
        }
        checkGradients("convTranspose2d s1 4x4", [rnd([1, 2, 3, 3], seed: 71), rnd([2, 3, 4, 4], seed: 72)]) {
            $0[0].convTranspose2d($0[1])
        }
        // The DCGAN's geometries: 5×5, stride 2, padding 2 (output padding 1 for the transposed one).
        checkGradients("convTranspose2d 5x5 s2 p2 op1", [rnd([2, 3, 4, 4], seed: 73), rnd([3, 2, 5, 5], seed: 74)]) {
            $0[0].convTranspose2d($0[1], stride: 2, padding: 2, outputPadding: 1)
        }
        checkGradients(
            "conv2d 5x5 s2 p2", [rnd([2, 2, 7, 6], seed: 75), rnd([3, 2, 5, 5], seed: 76), rnd([3], seed: 77)]
        ) {
            $0[0].conv2d($0[1], bias: $0[2], stride: 2, padding: 2)
        }
    }

    func testPooling() {
        checkGradients("maxPool2d 2", [rnd([2, 3, 7, 6], seed: 80)], eps: 1e-3) { $0[0].maxPool2d(2) }
        checkGradients("maxPool2d 3 s2", [rnd([1, 2, 7, 7], seed: 84)], eps: 1e-3) { $0[0].maxPool2d(3, stride: 2) }
        checkGradients("avgPool2d 2", [rnd([2, 3, 5, 6], seed: 82)]) { $0[0].avgPool2d(2) }
    }

    func testNormalisationDropoutEmbedding() {
        let rm = Tensor.zeros([3]), rv = Tensor.ones([3])
        checkGradients(
            "batchNorm train 4-D", [rnd([4, 3, 3, 2], seed: 90), rnd([3], seed: 91), rnd([3], seed: 92)], tol: 3e-2
        ) {
            $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: rm, runningVar: rv, training: true)
        }
        checkGradients(
            "batchNorm train 2-D", [rnd([5, 3], seed: 93), rnd([3], seed: 94), rnd([3], seed: 95)], tol: 3e-2
        ) {
            $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: rm, runningVar: rv, training: true)
        }
        let rm2 = Tensor([0.1, -0.2, 0.3], shape: [3]), rv2 = Tensor([0.5, 1.5, 2], shape: [3])
        checkGradients("batchNorm eval", [rnd([4, 3, 2], seed: 96), rnd([3], seed: 97), rnd([3], seed: 98)]) {
            $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: rm2, runningVar: rv2, training: false)
        }
        checkGradients("dropout p=0.3", [rnd([6, 7], seed: 100)]) { x in
            var rng = SeededRandom(seed: 5)  // the same mask on every evaluation
            return x[0].dropout(0.3, training: true, rng: &rng)
        }
        checkGradients("embedding", [rnd([5, 4], seed: 101)]) {
            Tensor.embedding($0[0], indices: [3, 1, 3, 0], indexShape: [2, 2])
        }
    }

    func testGradientsAccumulateAcrossBackwardCalls() {
        let x = Tensor([1, 2, 3], shape: [3])
        x.requiresGrad = true
        (x * x).sum().backward()
        (x * x).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [4, 8, 12])  // 2 · 2x
        x.zeroGrad()
        XCTAssertNil(x.grad)
    }

    func testNoGradRecordsNothing() {
        let x = Tensor([1, 2], shape: [2])
        x.requiresGrad = true
        let y = Autograd.noGrad { (x * x).exp() }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.node)
        let z = x * x
        XCTAssertNotNil(z.node)
    }
}

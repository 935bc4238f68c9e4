// Optimizers against hand-computed steps, the steady state of a training step, and small networks that must
// learn a held-out problem.
import XCTest
import Tensor
@testable import NN

final class OptimizerTests: XCTestCase {
    func testSGDMomentumAndNesterovSteps() {
        let w = Tensor([1], shape: [1])
        w.requiresGrad = true
        let opt = SGD([w], learningRate: 0.1, momentum: 0.9)
        w.grad = Tensor([2], shape: [1])
        opt.step()  // v=2, w=1-0.2
        XCTAssertEqual(w.item, 0.8, accuracy: 1e-6)
        w.grad = Tensor([2], shape: [1])
        opt.step()  // v=0.9*2+2=3.8, w=0.8-0.38
        XCTAssertEqual(w.item, 0.42, accuracy: 1e-6)
        let u = Tensor([1], shape: [1])
        u.requiresGrad = true
        let nest = SGD([u], learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.5)
        u.grad = Tensor([2], shape: [1])
        nest.step()  // g=2.5, v=2.5, w=1-0.1(2.5+2.25)
        XCTAssertEqual(u.item, 0.525, accuracy: 1e-6)
    }

    func testAdamAndAdamWFirstSteps() {
        let w = Tensor([1, -1], shape: [2])
        w.requiresGrad = true
        let adam = Adam([w], learningRate: 0.01)
        w.grad = Tensor([0.5, -3], shape: [2])
        adam.step()  // first Adam step moves by lr·sign(g)
        XCTAssertEqual(w.scalars[0], 0.99, accuracy: 1e-5)
        XCTAssertEqual(w.scalars[1], -0.99, accuracy: 1e-5)
        let u = Tensor([2], shape: [1])
        u.requiresGrad = true
        let adamw = AdamW([u], learningRate: 0.1, weightDecay: 0.5)
        u.grad = Tensor([1], shape: [1])
        adamw.step()  // 2·(1−0.05) − 0.1
        XCTAssertEqual(u.item, 1.8, accuracy: 1e-5)
    }

    /// A state read back from a checkpoint: a step count no run reaches (which would overflow at the
    /// next step) or below zero is refused; a round trip restores the same next step.
    func testAdamStateFromAFileIsChecked() throws {
        let w = Tensor([1, -1], shape: [2])
        w.requiresGrad = true
        let adam = Adam([w], learningRate: 0.01)
        w.grad = Tensor([0.5, -3], shape: [2])
        adam.step()
        let saved = adam.state
        for steps in [Int.max, -1, (1 << 40) + 1] {
            XCTAssertThrowsError(try adam.restore(OptimizerState(tensors: saved.tensors, steps: steps)), "\(steps)") {
                e in
                XCTAssertTrue("\(e)".contains("step count \(steps) is out of range"), "\(e)")
            }
        }
        let twin = Tensor([1, -1], shape: [2])
        twin.requiresGrad = true
        let copy = Adam([twin], learningRate: 0.01)
        try copy.restore(saved)
        twin.data.update(from: w.data, count: 2)
        for t in [w, twin] { t.grad = Tensor([0.25, 1], shape: [2]) }
        adam.step()
        copy.step()
        XCTAssertEqual(w.scalars, twin.scalars)
    }

    /// Three Adam and AdamW steps on 37 parameters (vector body and scalar tail of the update kernel)
    /// against the update written out in Double.
    func testAdamMatchesTheFormulaOverSeveralSteps() {
        for decoupled in [false, true] {
            let n = 37
            let w = Tensor.uniform([n], low: -1, high: 1, seed: 5)
            w.requiresGrad = true
            let opt =
                decoupled
                ? AdamW([w], learningRate: 0.05, weightDecay: 0.1)
                : Adam([w], learningRate: 0.05, weightDecay: 0.1)
            var rw = w.scalars.map(Double.init), rm = [Double](repeating: 0, count: n), rv = rm
            for t in 1...3 {
                let g = Tensor.uniform([n], low: -2, high: 2, seed: UInt64(10 + t))
                w.grad = g
                opt.step()
                let (b1, b2, lr, wd) = (0.9, 0.999, 0.05, 0.1)
                for i in 0..<n {
                    let gi = Double(g.scalars[i]) + (decoupled ? 0 : wd * rw[i])
                    rm[i] = b1 * rm[i] + (1 - b1) * gi
                    rv[i] = b2 * rv[i] + (1 - b2) * gi * gi
                    let mhat = rm[i] / (1 - pow(b1, Double(t))), vhat = rv[i] / (1 - pow(b2, Double(t)))
                    rw[i] = rw[i] * (decoupled ? 1 - lr * wd : 1) - lr * mhat / (vhat.squareRoot() + 1e-8)
                }
                for i in 0..<n { XCTAssertEqual(Double(w.scalars[i]), rw[i], accuracy: 1e-5, "step \(t) index \(i)") }
            }
        }
    }

    func testClipAndSchedules() {
        let a = Tensor([0, 0], shape: [2]), b = Tensor([0], shape: [1])
        a.grad = Tensor([3, 0], shape: [2])
        b.grad = Tensor([4], shape: [1])
        XCTAssertEqual(clipGradNorm([a, b], maxNorm: 1), 5, accuracy: 1e-5)
        XCTAssertEqual(a.grad!.scalars[0], 0.6, accuracy: 1e-4)
        XCTAssertEqual(b.grad!.item, 0.8, accuracy: 1e-4)
        XCTAssertEqual(LRSchedule.step(every: 2, gamma: 0.5).rate(base: 1, at: 5), 0.25)
        XCTAssertEqual(LRSchedule.cosine(total: 10, minimum: 0).rate(base: 1, at: 0), 1, accuracy: 1e-6)
        XCTAssertEqual(LRSchedule.cosine(total: 10, minimum: 0.1).rate(base: 1, at: 5), 0.55, accuracy: 1e-6)
        XCTAssertEqual(LRSchedule.cosine(total: 10, minimum: 0.1).rate(base: 1, at: 10), 0.1, accuracy: 1e-6)
    }

    func testTrainingStepsReachASteadyStateWithoutNewBuffers() {
        // After warm-up, every tensor buffer of a training step comes from the pool: no malloc per step.
        // One thread, so the peak number of same-size buffers alive at once is the same every step
        // (with two, it depends on how the chunks happen to overlap until both have overlapped once).
        let saved = Parallel.threads
        Parallel.threads = 1
        defer { Parallel.threads = saved }
        let net = SmallNet()
        let opt = Adam(net.parameters, learningRate: 1e-3)
        let x = Tensor.uniform([8, 1, 28, 28], seed: 1)
        let y = (0..<8).map { $0 % 10 }
        func step() {
            net.zeroGrad()
            let loss = Loss.crossEntropy(net(x), labels: y)
            loss.backward()
            opt.step()
        }
        for _ in 0..<3 { step() }
        let before = BufferPool.shared.freshAllocations
        for _ in 0..<5 { step() }
        XCTAssertEqual(BufferPool.shared.freshAllocations, before)
    }

    /// Two interleaved spirals-like classes separated by a circle: a linear model cannot, an MLP can.
    func makeRings(_ n: Int, seed: UInt64) -> (Tensor, [Int]) {
        var rng = SeededRandom(seed: seed)
        let x = Tensor(uninitialized: [n, 2])
        var y: [Int] = []
        for i in 0..<n {
            let label = i % 2
            let r = label == 0 ? 0.2 + 0.5 * rng.nextFloat() : 1.1 + 0.6 * rng.nextFloat()
            let a = 2 * Float.pi * rng.nextFloat()
            x.data[2 * i] = r * cos(a)
            x.data[2 * i + 1] = r * sin(a)
            y.append(label)
        }
        return (x, y)
    }

    func testMLPLearnsSeparableProblemOnHeldOutData() {
        let model = Sequential([
            Dense(2, 32, seed: 1), Activation(.relu), Dense(32, 32, seed: 2), Activation(.tanh),
            Dense(32, 2, seed: 3),
        ])
        let (xTrain, yTrain) = makeRings(512, seed: 10)
        let (xTest, yTest) = makeRings(1000, seed: 11)  // different points, same distribution
        let opt = Adam(model.parameters, learningRate: 0.01)
        for _ in 0..<60 {
            for b in stride(from: 0, to: 512, by: 64) {
                model.zeroGrad()
                let loss = Loss.crossEntropy(model(xTrain.slice(b..<b + 64)), labels: Array(yTrain[b..<b + 64]))
                loss.backward()
                opt.step()
            }
        }
        let pred = Autograd.noGrad { model(xTest) }.argmaxRows()
        let acc = Double(zip(pred, yTest).filter { $0 == $1 }.count) / Double(yTest.count)
        print("MLP held-out accuracy: \(acc)")
        XCTAssertGreaterThanOrEqual(acc, 0.99)
    }

    func testSmallConvNetLossDecreases() {
        // Bright-left vs bright-right 8×8 images: a conv net must get the training loss well down.
        var rng = SeededRandom(seed: 4)
        let x = Tensor.zeros([16, 1, 8, 8])
        var y: [Int] = []
        for i in 0..<16 {
            let label = i % 2
            y.append(label)
            for r in 0..<8 {
                for c in 0..<8 { x[i, 0, r, c] = 0.1 * rng.nextFloat() + ((c < 4) == (label == 0) ? 1 : 0) }
            }
        }
        let net = Sequential([
            Conv2D(1, 4, kernelSize: 3, padding: 1, relu: true, seed: 5), MaxPool2D(2), Flatten(),
            Dense(64, 2, seed: 6),
        ])
        let opt = SGD(net.parameters, learningRate: 0.1, momentum: 0.9)
        var first: Float = 0, last: Float = 0
        for step in 0..<30 {
            net.zeroGrad()
            let loss = Loss.crossEntropy(net(x), labels: y)
            if step == 0 { first = loss.item }
            last = loss.item
            loss.backward()
            opt.step()
        }
        XCTAssertLessThan(last, first * 0.1, "loss \(first) → \(last)")
    }
}

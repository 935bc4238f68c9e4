// Kernels against their scalar references, and forward values against hand-computed results.
import XCTest
@testable import Tensor
import FilesAndText

final class KernelTests: XCTestCase {
    func testGemmAllLayoutsOddSizesAndThreads() {
        for (m, n, k) in [(1, 1, 1), (7, 13, 5), (37, 53, 300), (150, 40, 19), (13, 70, 260), (29, 45, 1100)] {
            for ta in [false, true] {
                for tb in [false, true] {
                    for threads in [1, 2] {
                        let a = Tensor.uniform([m * k], low: -1, high: 1, seed: 1)
                        let b = Tensor.uniform([k * n], low: -1, high: 1, seed: 2)
                        let c0 = Tensor.uniform([m * n], seed: 3)
                        let c1 = c0.copy(), c2 = c0.copy()
                        let lda = ta ? m : k, ldb = tb ? k : n
                        sgemm(
                            transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a.data, lda: lda, b: b.data,
                            ldb: ldb,
                            beta: 0.25, c: c1.data, ldc: n, threads: threads)
                        sgemmReference(
                            transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a.data, lda: lda, b: b.data,
                            ldb: ldb, beta: 0.25, c: c2.data, ldc: n)
                        var maxDiff: Float = 0
                        for i in 0..<m * n { maxDiff = max(maxDiff, abs(c1.data[i] - c2.data[i])) }
                        XCTAssertLessThan(
                            maxDiff, 1e-4 * Float(k), "gemm \(m)x\(n)x\(k) ta=\(ta) tb=\(tb) t=\(threads)")
                    }
                }
            }
        }
    }

    func testBigGemmThreadedMatchesReference() {
        let (m, n, k) = (200, 300, 1100)
        let a = Tensor.uniform([m, k], low: -1, high: 1, seed: 4),
            b = Tensor.uniform([k, n], low: -1, high: 1, seed: 5)
        let c1 = Tensor.zeros([m, n]), c2 = Tensor.zeros([m, n])
        sgemm(
            transA: false, transB: false, m: m, n: n, k: k, a: a.data, lda: k, b: b.data, ldb: n, beta: 0,
            c: c1.data, ldc: n, threads: 2)
        sgemmReference(
            transA: false, transB: false, m: m, n: n, k: k, a: a.data, lda: k, b: b.data, ldb: n, beta: 0,
            c: c2.data, ldc: n)
        var maxDiff: Float = 0
        for i in 0..<m * n { maxDiff = max(maxDiff, abs(c1.data[i] - c2.data[i])) }
        print("GEMM OK \(m)x\(n)x\(k) maxdiff = \(maxDiff) kernel = \(GemmBlocking.kernelName)")
        XCTAssertLessThan(maxDiff, 1e-3)
    }

    /// The recurrent layers' products: rows by pointer (strided, out of order, starting from zero, from C or
    /// from other rows), whole batches with a start row, and Aᵀ·B read in place — all against the reference,
    /// on sizes that leave partial tiles and panels and k beyond one packed block.
    func testRecurrentProductsMatchReference() {
        for (m, n, k) in [(1, 5, 3), (9, 70, 64), (17, 33, 600), (3, 256, 13)] {
            let a = Tensor.uniform([m * k], low: -1, high: 1, seed: 11),
                w = Tensor.uniform([k * n], low: -1, high: 1, seed: 12)
            let start = Tensor.uniform([m * n], low: -1, high: 1, seed: 13), bias = Tensor.uniform([n], seed: 14)
            let ref = Tensor.zeros([m * n])
            sgemmReference(
                transA: false, transB: false, m: m, n: n, k: k, a: a.data, lda: k, b: w.data, ldb: n, beta: 0,
                c: ref.data, ldc: n)
            func check(_ got: Tensor, _ expected: (Int, Int) -> Float, _ what: String) {
                var worst: Float = 0
                for i in 0..<m { for j in 0..<n { worst = max(worst, abs(got.data[i * n + j] - expected(i, j))) } }
                XCTAssertLessThan(worst, 1e-4 * Float(k), "\(what) \(m)x\(n)x\(k)")
            }
            PackedB.with(transB: false, n: n, k: k, b: w.data, ldb: n) { pb in
                // Rows in reverse order: row i of A goes to row m−1−i of C.
                for mode in 0..<3 {
                    let c = start.copy()
                    withScratch(pb.rowScratchCount(m: m)) { scratch in
                        RowPointers.with(count: m) { ptr in
                            for i in 0..<m {
                                ptr.a[i] = UnsafePointer(a.data + i * k)
                                ptr.c[i] = c.data + (m - 1 - i) * n
                                ptr.start[i] = UnsafePointer(bias.data)
                            }
                            pb.multiplyRows(
                                m: m, a: ptr.a, c: ptr.c, start: [RowStart.zero, .accumulate, .from(ptr.start)][mode],
                                scratch: scratch)
                        }
                    }
                    check(
                        c,
                        { i, j in
                            let r = m - 1 - i, base: Float = [0, start.data[i * n + j], bias.data[j]][mode]
                            return base + ref.data[r * n + j]
                        }, "multiplyRows mode \(mode)")
                }
                let all = Tensor.zeros([m * n])
                pb.multiplyAll(m: m, a: a.data, lda: k, c: all.data, ldc: n, startRow: bias.data)
                check(all, { i, j in bias.data[j] + ref.data[i * n + j] }, "multiplyAll")
            }
            // Aᵀ·B with A stored [k × m]: the transpose of a, laid out by rows of k.
            let at = Tensor.zeros([k * m])
            for i in 0..<m { for p in 0..<k { at.data[p * m + i] = a.data[i * k + p] } }
            let outer = Tensor.uniform([m * n], seed: 15)
            sumOfOuterProducts(m: m, n: n, k: k, a: at.data, lda: m, b: w.data, ldb: n, c: outer.data, ldc: n)
            check(outer, { i, j in ref.data[i * n + j] }, "sumOfOuterProducts")
        }
    }

    func testExp8MatchesExpf() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let v = exp8(F8(repeating: x))[0], r = Foundation.exp(x)
            worst = max(worst, abs(v - r) / r)
            x += 0.173
        }
        print("exp8 max relative error = \(worst)")
        XCTAssertLessThan(worst, 5e-7)
        XCTAssertEqual(exp8(F8(repeating: -200))[0], 0, accuracy: 1e-37)
        XCTAssertFalse(exp8(F8(repeating: 200))[0].isNaN)
    }

    func testConvMatchesDirectLoop() {
        let x = Tensor.uniform([2, 3, 6, 5], low: -1, high: 1, seed: 6)
        let w = Tensor.uniform([4, 3, 3, 3], low: -1, high: 1, seed: 7)
        let b = Tensor.uniform([4], seed: 8)
        let y = x.conv2d(w, bias: b, stride: 2, padding: 1)
        XCTAssertEqual(y.shape, [2, 4, 3, 3])
        var maxDiff: Float = 0
        for n in 0..<2 {
            for o in 0..<4 {
                for oy in 0..<3 {
                    for ox in 0..<3 {
                        var s = b.data[o]
                        for c in 0..<3 {
                            for ky in 0..<3 {
                                for kx in 0..<3 {
                                    let iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx
                                    if iy >= 0 && iy < 6 && ix >= 0 && ix < 5 { s += x[n, c, iy, ix] * w[o, c, ky, kx] }
                                }
                            }
                        }
                        maxDiff = max(maxDiff, abs(s - y[n, o, oy, ox]))
                    }
                }
            }
        }
        XCTAssertLessThan(maxDiff, 1e-5)
    }

    /// Single-channel input takes the direct kernels (not im2col + GEMM) for the forward pass and, when the
    /// input needs no gradient (a first layer), for the weight and bias gradients. Both against loops, on
    /// shapes that hit each branch — 3×3 with rows ≥ 8 (shifted last block, odd channel counts), rows < 8,
    /// other kernel sizes, padding, ReLU — with one and two threads.
    func testSingleChannelDirectConvAndWeightGradientMatchLoops() {
        for (h, w, oc, k, pad, relu) in [
            (28, 28, 32, 3, 0, true), (12, 19, 5, 3, 1, false), (6, 7, 3, 3, 0, true),
            (9, 40, 4, 5, 2, false), (5, 5, 1, 1, 0, true), (10, 21, 3, 3, 0, true),
        ] {
            for threads in [1, 2] {
                let saved = Parallel.threads
                Parallel.threads = threads
                defer { Parallel.threads = saved }
                let x = Tensor.uniform([3, 1, h, w], low: -1, high: 1, seed: 20)
                let wt = Tensor.uniform([oc, 1, k, k], low: -1, high: 1, seed: 21)
                let b = Tensor.uniform([oc], low: -1, high: 1, seed: 22)
                wt.requiresGrad = true
                b.requiresGrad = true
                let y = x.conv2d(wt, bias: b, padding: pad, relu: relu)
                let gy = Tensor.uniform(y.shape, low: -1, high: 1, seed: 23)
                (y * gy).sum().backward()
                let oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1
                XCTAssertEqual(y.shape, [3, oc, oh, ow])
                var forward: Float = 0, gradient: Float = 0
                for o in 0..<oc {
                    var db: Float = 0
                    var dw = [Float](repeating: 0, count: k * k)
                    for n in 0..<3 {
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                var s = b.data[o]
                                for ky in 0..<k {
                                    for kx in 0..<k {
                                        let iy = oy - pad + ky, ix = ox - pad + kx
                                        if iy >= 0 && iy < h && ix >= 0 && ix < w {
                                            s += x[n, 0, iy, ix] * wt.data[(o * k + ky) * k + kx]
                                        }
                                    }
                                }
                                if relu { s = max(s, 0) }
                                forward = max(forward, abs(s - y[n, o, oy, ox]))
                                let g = relu && y[n, o, oy, ox] <= 0 ? 0 : gy[n, o, oy, ox]
                                db += g
                                for ky in 0..<k {
                                    for kx in 0..<k {
                                        let iy = oy - pad + ky, ix = ox - pad + kx
                                        if iy >= 0 && iy < h && ix >= 0 && ix < w {
                                            dw[ky * k + kx] += g * x[n, 0, iy, ix]
                                        }
                                    }
                                }
                            }
                        }
                    }
                    gradient = max(gradient, abs(db - b.grad!.data[o]))
                    for t in 0..<k * k { gradient = max(gradient, abs(dw[t] - wt.grad!.data[o * k * k + t])) }
                }
                let shape = "\(h)x\(w) oc=\(oc) k=\(k) pad=\(pad) threads=\(threads)"
                XCTAssertLessThan(forward, 1e-5, shape)
                XCTAssertLessThan(gradient, 1e-3, shape)
            }
        }
    }

    /// The fused block (conv 3×3 + ReLU + 2×2 max-pool) against the unfused ops: outputs at inference and
    /// in training, and dX/dW/db, on even and odd conv outputs (the pool drops a row and a column), with
    /// padding, a bias that zeroes many windows entirely, and one and two threads. Single-channel inputs
    /// take the direct form; 8 or more channels the Winograd form, with pooled rows shorter and longer
    /// than its 8-lane blocks, and channel counts whose patch rows (3 taps × channels) are shorter than,
    /// equal to and longer than the backward kernels' 96-float blocks.
    func testFusedConvReluPoolMatchesUnfusedOps() {
        let cases: [(c: Int, h: Int, w: Int, oc: Int, pad: Int, biasShift: Float)] = [
            (1, 28, 28, 32, 0, 0), (1, 27, 27, 5, 0, -0.5), (1, 12, 19, 3, 1, -1), (1, 5, 4, 9, 0, 0.2),
            (8, 13, 13, 16, 0, 0), (8, 11, 20, 9, 1, -0.3), (12, 19, 17, 5, 2, 0.1), (9, 4, 6, 3, 0, 0),
            (32, 13, 13, 8, 0, 0), (40, 9, 10, 6, 1, -0.1),
        ]
        for (c, h, w, oc, pad, biasShift) in cases {
            for threads in [1, 2] {
                let saved = Parallel.threads
                Parallel.threads = threads
                defer { Parallel.threads = saved }
                let x = Tensor.uniform([3, c, h, w], low: -1, high: 1, seed: 50)
                let wt = Tensor.uniform([oc, c, 3, 3], low: -1, high: 1, seed: 51)
                let b = Tensor.uniform([oc], low: -0.2 + biasShift, high: 0.2 + biasShift, seed: 52)
                let reference = x.conv2d(wt, bias: b, padding: pad, relu: true).maxPool2d(2)
                let inference = x.conv2dReluMaxPool2(wt, bias: b, padding: pad)
                let gy = Tensor.uniform(reference.shape, low: -1, high: 1, seed: 53)
                func grads(_ fused: Bool) -> (Tensor, Tensor, Tensor, Tensor?) {
                    let xv = x.copy(), wv = wt.copy(), bv = b.copy()
                    xv.requiresGrad = c > 1
                    wv.requiresGrad = true
                    bv.requiresGrad = true
                    let y =
                        fused
                        ? xv.conv2dReluMaxPool2(wv, bias: bv, padding: pad)
                        : xv.conv2d(wv, bias: bv, padding: pad, relu: true).maxPool2d(2)
                    (y * gy).sum().backward()
                    return (y, wv.grad!, bv.grad!, xv.grad)
                }
                let (y0, gw0, gb0, gx0) = grads(false), (y1, gw1, gb1, gx1) = grads(true)
                let shape = "c=\(c) \(h)x\(w) oc=\(oc) pad=\(pad) threads=\(threads)"
                XCTAssertEqual(inference.shape, reference.shape, shape)
                var worst: Float = 0
                for i in 0..<reference.count {
                    worst = max(worst, abs(inference.data[i] - reference.data[i]), abs(y1.data[i] - y0.data[i]))
                }
                func relative(_ a: Tensor, _ b: Tensor) -> Float {
                    (0..<a.count).map { abs(a.data[$0] - b.data[$0]) / max(1, abs(b.data[$0])) }.max()!
                }
                worst = max(worst, relative(gw1, gw0), relative(gb1, gb0))
                if c > 1 { worst = max(worst, relative(gx1!, gx0!)) }
                XCTAssertLessThan(worst, 1e-4, shape)
                XCTAssertGreaterThan(
                    (0..<gw0.count).map { abs(gw0.data[$0]) }.max()!, 0.1, "the gradient must not be trivially zero")
            }
        }
    }

    /// 2×2 max pooling: the inference kernel, the training kernel (which also records the winners) and
    /// its gradient, against a loop; widths cover the SIMD blocks and the scalar tail, odd sizes the
    /// dropped edge, and ties (many zeros) the first-maximum rule.
    func testMaxPool2x2FastPathsMatchLoop() {
        for (h, w) in [(26, 26), (11, 11), (7, 35), (2, 2)] {
            let x = Tensor.uniform([2, 3, h, w], low: -1, high: 1, seed: 23).relu()
            let oh = h / 2, ow = w / 2
            let inference = Autograd.noGrad { x.maxPool2d(2) }
            let xt = x.copy()
            xt.requiresGrad = true
            let training = xt.maxPool2d(2)
            let gy = Tensor.uniform(training.shape, low: -1, high: 1, seed: 24)
            (training * gy).sum().backward()
            let gx = xt.grad!
            var expectedGrad = [Float](repeating: 0, count: x.count)
            for n in 0..<2 {
                for c in 0..<3 {
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            var best = -Float.infinity, bi = 0
                            for ky in 0..<2 {
                                for kx in 0..<2 where x[n, c, 2 * oy + ky, 2 * ox + kx] > best {
                                    best = x[n, c, 2 * oy + ky, 2 * ox + kx]
                                    bi = (2 * oy + ky) * w + 2 * ox + kx
                                }
                            }
                            XCTAssertEqual(inference[n, c, oy, ox], best)
                            XCTAssertEqual(training[n, c, oy, ox], best)
                            expectedGrad[(n * 3 + c) * h * w + bi] += gy[n, c, oy, ox]
                        }
                    }
                }
            }
            for i in 0..<x.count { XCTAssertEqual(gx.data[i], expectedGrad[i], "\(h)x\(w) at \(i)") }
        }
    }

    /// Big enough that one image's im2col fills the L2 budget: forward and backward then walk each core's
    /// images in several sub-chunks, accumulating dW and db across them. The batched results must equal
    /// the same conv run one image at a time (which also compares the batch's Winograd forward, with the
    /// fused ReLU, against single-image im2col + GEMM).
    func testSubChunkedConvEqualsPerImage() {
        let x = Tensor.uniform([5, 32, 20, 20], low: -1, high: 1, seed: 30)
        let w = Tensor.uniform([8, 32, 3, 3], low: -0.2, high: 0.2, seed: 31)
        let b = Tensor.uniform([8], low: -0.1, high: 0.1, seed: 32)
        XCTAssertGreaterThan(32 * 9 * 18 * 18 * 2, convColumnBudget, "test must exercise several sub-chunks")
        let gy = Tensor.uniform([5, 8, 18, 18], low: -1, high: 1, seed: 33)
        func grads(_ xs: Tensor) -> (Tensor, Tensor, Tensor, Tensor) {
            let xv = xs.copy(), wv = w.copy(), bv = b.copy()
            xv.requiresGrad = true
            wv.requiresGrad = true
            bv.requiresGrad = true
            let y = xv.conv2d(wv, bias: bv, relu: true)
            (y * gy.slice(0..<xs.shape[0]).copy()).sum().backward()
            return (y, xv.grad!, wv.grad!, bv.grad!)
        }
        let (y, gx, gw, gb) = grads(x)
        var sumW = [Float](repeating: 0, count: w.count), sumB = [Float](repeating: 0, count: 8)
        var worst: Float = 0
        for i in 0..<5 {
            let xi = x.slice(i..<i + 1).copy()
            let xv = xi.copy(), wv = w.copy(), bv = b.copy()
            xv.requiresGrad = true
            wv.requiresGrad = true
            bv.requiresGrad = true
            let yi = xv.conv2d(wv, bias: bv, relu: true)
            (yi * gy.slice(i..<i + 1).copy()).sum().backward()
            for j in 0..<yi.count { worst = max(worst, abs(yi.data[j] - y.data[i * yi.count + j])) }
            for j in 0..<xv.count { worst = max(worst, abs(xv.grad!.data[j] - gx.data[i * xv.count + j])) }
            for j in 0..<w.count { sumW[j] += wv.grad!.data[j] }
            for j in 0..<8 { sumB[j] += bv.grad!.data[j] }
        }
        for j in 0..<w.count { worst = max(worst, abs(sumW[j] - gw.data[j]) / max(1, abs(sumW[j]))) }
        for j in 0..<8 { worst = max(worst, abs(sumB[j] - gb.data[j]) / max(1, abs(sumB[j]))) }
        XCTAssertLessThan(worst, 1e-4)
    }

    /// Winograd against im2col + GEMM on output planes narrower than a 16-lane row store, wider than one
    /// 8-tile block, odd and even, with every padding, on both cores, repeatedly: a store that ran into
    /// the next core's image once corrupted results only now and then.
    /// Inference caches transformed Winograd weights; weights changed in place at the same address must be
    /// transformed again. A single image (batch 1), checked against the uncached path (autograd on).
    func testWinogradWeightCacheSeesWeightsChangedInPlace() {
        let x = Tensor.uniform([1, 8, 9, 7], low: -1, high: 1, seed: 31)
        let w = Tensor.uniform([5, 8, 3, 3], low: -1, high: 1, seed: 32)
        let before = Autograd.noGrad { x.conv2d(w, padding: 1) }
        let again = Autograd.noGrad { x.conv2d(w, padding: 1) }
        for i in 0..<w.count { w.data[i] *= -0.5 }
        let after = Autograd.noGrad { x.conv2d(w, padding: 1) }
        let reference = x.conv2d(w, padding: 1)
        var changed: Float = 0, stale: Float = 0, repeated: Float = 0
        for i in 0..<after.count {
            changed = max(changed, abs(after.data[i] - before.data[i]))
            stale = max(stale, abs(after.data[i] - reference.data[i]))
            repeated = max(repeated, abs(again.data[i] - before.data[i]))
        }
        XCTAssertEqual(repeated, 0, "a cached transform must give the same result")
        XCTAssertGreaterThan(changed, 0.1)
        XCTAssertLessThan(stale, 1e-5, "inference used the transform of the old weights")
    }

    func testWinogradMatchesIm2colOnManyShapes() {
        let saved = Parallel.threads
        Parallel.threads = 2
        defer {
            Parallel.threads = saved
            Winograd.enabled = true
        }
        for (h, w, pad) in [(6, 5, 1), (13, 13, 0), (4, 4, 2), (20, 37, 1), (3, 3, 0), (9, 18, 0), (7, 40, 2)] {
            let x = Tensor.uniform([7, 8, h, w], low: -1, high: 1, seed: 40)
            let wt = Tensor.uniform([5, 8, 3, 3], low: -0.3, high: 0.3, seed: 41)
            let b = Tensor.uniform([5], low: -0.1, high: 0.1, seed: 42)
            Winograd.enabled = false
            let reference = x.conv2d(wt, bias: b, padding: pad, relu: true)
            Winograd.enabled = true
            XCTAssertTrue(
                Winograd.applies(
                    ConvGeometry(c: 8, h: h, w: w, kh: 3, kw: 3, stride: 1, pad: pad), inChannels: 8, batch: 7))
            for round in 0..<20 {
                let y = x.conv2d(wt, bias: b, padding: pad, relu: true)
                var worst: Float = 0
                for i in 0..<y.count { worst = max(worst, abs(y.data[i] - reference.data[i])) }
                if worst > 1e-5 {
                    XCTFail("\(h)x\(w) pad \(pad) round \(round): max diff \(worst)")
                    return
                }
            }
        }
    }

    func testConvTransposeIsAdjointOfConv() {
        // <conv(x), y> == <x, convT(y)> for the same weight: the defining property of the transpose.
        let x = Tensor.uniform([2, 3, 7, 7], low: -1, high: 1, seed: 9)
        let w = Tensor.uniform([4, 3, 3, 3], low: -1, high: 1, seed: 10)
        let cx = x.conv2d(w, stride: 2, padding: 1)
        let y = Tensor.uniform(cx.shape, low: -1, high: 1, seed: 11)
        let ty = y.convTranspose2d(w, stride: 2, padding: 1)
        XCTAssertEqual(ty.shape, x.shape)
        let lhs = (cx * y).sum().item, rhs = (x * ty).sum().item
        XCTAssertEqual(lhs, rhs, accuracy: 1e-3 * max(1, abs(lhs)))
    }

    func testSoftmaxRowsSumToOneAndLogSoftmaxAgrees() {
        let x = Tensor.uniform([4, 37], low: -30, high: 30, seed: 12)
        let s = x.softmax(), l = x.logSoftmax()
        for r in 0..<4 {
            var total: Float = 0
            for j in 0..<37 {
                total += s[r, j]
                XCTAssertEqual(Foundation.log(s[r, j]), l[r, j], accuracy: 1e-4)
            }
            XCTAssertEqual(total, 1, accuracy: 1e-5)
        }
    }

    func testBatchNormTrainingUpdatesRunningStats() {
        let x = Tensor([1, 2, 3, 5], shape: [4, 1])
        let rm = Tensor.zeros([1]), rv = Tensor.ones([1])
        let y = x.batchNorm(
            weight: Tensor.ones([1]), bias: Tensor.zeros([1]), runningMean: rm, runningVar: rv, training: true)
        XCTAssertEqual(y.sum().item, 0, accuracy: 1e-5)
        XCTAssertEqual(rm.item, 0.1 * 2.75, accuracy: 1e-6)
        // unbiased variance of 1,2,3,5 is 2.9167
        XCTAssertEqual(rv.item, 0.9 + 0.1 * 2.916_666_7, accuracy: 1e-5)
    }

    func testSeededRandomIsReproducible() {
        XCTAssertEqual(Tensor.normal([5], seed: 42).scalars, Tensor.normal([5], seed: 42).scalars)
        XCTAssertNotEqual(Tensor.normal([5], seed: 42).scalars, Tensor.normal([5], seed: 43).scalars)
        let u = Tensor.uniform([10000], low: 2, high: 3, seed: 1)
        XCTAssertTrue(u.scalars.allSatisfy { $0 >= 2 && $0 < 3 })
        let n = Tensor.normal([20000], mean: 1, std: 2, seed: 3)
        XCTAssertEqual(n.mean().item, 1, accuracy: 0.05)
        XCTAssertEqual(((n - 1).squared()).mean().item, 4, accuracy: 0.15)
    }

    func testShapesAndViews() {
        let a = Tensor.arange(12).reshaped([3, 4])
        XCTAssertEqual(a.transposed().scalars, [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        XCTAssertEqual(a.slice(1..<3).scalars, Array(4..<12).map(Float.init))
        XCTAssertEqual(a.narrowed(axis: 1, 1..<3).scalars, [1, 2, 5, 6, 9, 10])
        XCTAssertEqual(a.chunked(2, axis: 1).map { $0.shape }, [[3, 2], [3, 2]])
        XCTAssertEqual(a.chunked(2, axis: 1)[1].scalars, [2, 3, 6, 7, 10, 11])
        XCTAssertEqual(Tensor.concat(a.chunked(4, axis: 1), axis: 1).scalars, a.scalars)
        XCTAssertEqual(a.sum(axes: [1]).scalars, [6, 22, 38])
        XCTAssertEqual(a.max(axis: 0).scalars, [8, 9, 10, 11])
        XCTAssertEqual(a.argmax(axis: 1).scalars, [3, 3, 3])
        XCTAssertEqual(Tensor.stack([Tensor.ones([2]), Tensor.zeros([2])], axis: 1).scalars, [1, 0, 1, 0])
        XCTAssertEqual(broadcastShape([3, 1, 5], [4, 1]), [3, 4, 5])
        XCTAssertNil(broadcastShape([3], [4]))
    }
}

final class AtomicFileTests: XCTestCase {
    /// Files that belong together are all written or none: the model is not left without its metrics.
    func testFilesWrittenTogetherAreAllOrNothing() throws {
        let dir = NSTemporaryDirectory() + "dlpipe-atomic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertThrowsError(
            try writeFilesTogether([(dir + "/model.bin", Data([1, 2])), (dir + "/missing/metrics.json", Data([3]))]))
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: dir), [], "nothing written, no temp file left")
        try writeFilesTogether([(dir + "/model.bin", Data([1, 2])), (dir + "/metrics.json", Data([3]))])
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["metrics.json", "model.bin"])
    }
}

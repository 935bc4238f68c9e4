// conv2d and convTranspose2d (PyTorch layouts and semantics). conv2d's forward takes one of three paths:
// a direct kernel for single-channel input (Kernels/DirectConv.swift), Winograd F(2×2, 3×3) for 3×3
// stride-1 layers with ≥ 8 channels (Kernels/Winograd.swift), im2col + GEMM otherwise; its backward is
// im2col/col2im + GEMM (direct for a single-channel input's weight gradient).
// The batch is split into one chunk per core, and each chunk is walked in sub-chunks of a few images:
// wide enough GEMMs for 28×28 digits, small enough that the im2col matrix stays in L2. Bias and ReLU
// are fused into the output pass.

/// Floats of im2col columns one GEMM works on: 512 KB, the L2 of one Zen 3 core.
let convColumnBudget = 1 << 17

/// Images per im2col + GEMM sub-chunk of a core's `per` images with `k` × `s` columns each: as many as fit the
/// column budget, but at least enough for `minimumColumns` columns, so a layer with small output maps (7×7:
/// 49 columns an image) does not run GEMMs whose last register tile is mostly padding.
func convSubChunk(per: Int, k: Int, s: Int, minimumColumns: Int = 192) -> Int {
    let byBudget = convColumnBudget / Swift.max(k * s, 1)
    let byWidth = (minimumColumns + s - 1) / Swift.max(s, 1)
    return Swift.max(1, Swift.min(per, Swift.max(byBudget, byWidth)))
}

/// A batch of `n` images split into one chunk per core; cores left over go to each chunk's GEMMs.
struct BatchSplit {
    let n: Int, chunks: Int, per: Int, gemmThreads: Int
    init(_ n: Int) {
        let t = Parallel.threads
        self.n = n
        chunks = max(1, min(t, n))
        per = (n + chunks - 1) / chunks
        gemmThreads = max(1, t / chunks)
    }
    /// Runs body(chunk, firstImage, imageCount) for every non-empty chunk, in parallel.
    func forEach(_ body: (_ chunk: Int, _ i0: Int, _ nb: Int) -> Void) {
        Parallel.run(chunks) { ci in
            let i0 = ci * per, nb = min(n, i0 + per) - i0
            if nb > 0 { body(ci, i0, nb) }
        }
    }
}

extension Tensor {
    /// 2-D convolution. x: [N,C,H,W], weight: [OC,C,KH,KW], bias: [OC] → [N,OC,OH,OW].
    /// `relu: true` fuses max(0,·) into the output (and its mask into the backward).
    ///
    ///     let y = x.conv2d(w, bias: b, stride: 1, padding: 1)
    public func conv2d(
        _ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
        relu: Bool = false
    ) -> Tensor {
        let x = self
        precondition(x.rank == 4 && weight.rank == 4, "conv2d: input \(x.shape) and weight \(weight.shape) must be 4-D")
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oc, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        precondition(weight.shape[1] == c, "conv2d: input has \(c) channels, weight expects \(weight.shape[1])")
        precondition(
            stride >= 1 && padding >= 0 && h + 2 * padding >= kh && w + 2 * padding >= kw,
            "conv2d: kernel \(kh)×\(kw) does not fit input \(h)×\(w) with padding \(padding)")
        if let b = bias { precondition(b.shape == [oc], "conv2d: bias \(b.shape), expected [\(oc)]") }
        let g = ConvGeometry(c: c, h: h, w: w, kh: kh, kw: kw, stride: stride, pad: padding)
        let s = g.colCols, k = g.colRows
        let out = Tensor(uninitialized: [n, oc, g.oh, g.ow])
        let split = BatchSplit(n), gt = split.gemmThreads
        let X = SendablePointer(x.data), W = SendablePointer(weight.data), O = SendablePointer(out.data)
        let B = bias.map { SendablePointer($0.data) }
        if c == 1 && stride == 1 {
            let ph = h + 2 * padding, pw = w + 2 * padding
            singleChannelConvUnits(X.p, n: n, h: h, w: w, pad: padding, oc: oc, scratch: 0) { i, channels, plane, _ in
                directConvSingleChannel(
                    plane, h: ph, w: pw, W.p, kh: kh, kw: kw, B.map { UnsafePointer($0.p) }, relu: relu,
                    O.p + i * oc * s, channels: channels)
            }
        } else if Winograd.applies(g, inChannels: c, batch: n) {
            WinogradWeights.with(W.p, oc: oc, c: c) { u in
                winogradConv3x3(
                    X.p, n: n, h: h, w: w, pad: padding, u, bias: B.map { UnsafePointer($0.p) }, relu: relu, .plain(O.p)
                )
            }
        } else {
            // The weights are packed once for the whole batch; each core then runs im2col + GEMM over
            // sub-chunks of its images small enough that the column matrix stays in L2 (a whole chunk's
            // columns went out to DRAM and back: 36 MB for 256 digits).
            let sub = convSubChunk(per: split.per, k: k, s: s)
            PackedA.with(transA: false, m: oc, k: k, a: W.p, lda: k, threads: Parallel.threads) { pa in
                split.forEach { ci, i0, nb in
                    let sb = Swift.min(sub, nb)
                    withScratch(k * sb * s + oc * sb * s) { col in
                        let tmp = col + k * sb * s
                        var j = 0
                        while j < nb {
                            let cnt = Swift.min(sb, nb - j), cols = cnt * s
                            for i in 0..<cnt { im2col(g, X.p + (i0 + j + i) * c * h * w, col + i * s, ldc: cols) }
                            pa.multiply(
                                transB: false, n: cols, b: col, ldb: cols, beta: 0, c: tmp, ldc: cols, threads: gt)
                            for i in 0..<cnt {
                                for o in 0..<oc {
                                    let src = tmp + o * cols + i * s, dst = O.p + ((i0 + j + i) * oc + o) * s
                                    let bv = B.map { $0.p[o] } ?? 0
                                    if relu {
                                        map8(
                                            src, dst, s, { pointwiseMax8($0 + F8(repeating: bv), F8()) },
                                            { Swift.max($0 + bv, 0) })
                                    } else {
                                        map8(src, dst, s, { $0 + F8(repeating: bv) }, { $0 + bv })
                                    }
                                }
                            }
                            j += cnt
                        }
                    }
                }
            }
        }
        var inputs = [x, weight]
        if let b = bias { inputs.append(b) }
        return out.recorded(inputs) { y, gy in
            // With the fused ReLU, the mask (y > 0) is applied while the gradient is gathered.
            convBackward(x: x, weight: weight, bias: bias, gOut: gy, reluOutput: relu ? y : nil, geometry: g)
        }
    }

    /// 2-D transposed convolution (the adjoint of conv2d). x: [N,Cin,H,W], weight: [Cin,Cout,KH,KW]
    /// (PyTorch's ConvTranspose2d layout), bias: [Cout] → [N,Cout,OH,OW] with
    /// OH = (H−1)·stride − 2·padding + KH + outputPadding.
    public func convTranspose2d(
        _ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
        outputPadding: Int = 0
    ) -> Tensor {
        let x = self
        precondition(
            x.rank == 4 && weight.rank == 4, "convTranspose2d: input \(x.shape) and weight \(weight.shape) must be 4-D")
        let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (cout, kh, kw) = (weight.shape[1], weight.shape[2], weight.shape[3])
        precondition(
            weight.shape[0] == cin, "convTranspose2d: input has \(cin) channels, weight expects \(weight.shape[0])")
        precondition(
            outputPadding >= 0 && outputPadding < Swift.max(stride, 1),
            "convTranspose2d: output padding must be < stride")
        let oh = (h - 1) * stride - 2 * padding + kh + outputPadding
        let ow = (w - 1) * stride - 2 * padding + kw + outputPadding
        precondition(oh > 0 && ow > 0, "convTranspose2d: output would be \(oh)×\(ow)")
        if let b = bias { precondition(b.shape == [cout], "convTranspose2d: bias \(b.shape), expected [\(cout)]") }
        // The conv that maps the output back to the input.
        let g = ConvGeometry(c: cout, h: oh, w: ow, kh: kh, kw: kw, stride: stride, pad: padding)
        precondition(g.oh == h && g.ow == w, "convTranspose2d: inconsistent geometry")
        let s = h * w, k = g.colRows
        let out = Tensor.zeros([n, cout, oh, ow])
        let split = BatchSplit(n), gt = split.gemmThreads
        let X = SendablePointer(x.data), W = SendablePointer(weight.data), O = SendablePointer(out.data)
        let B = bias.map { SendablePointer($0.data) }
        // Wᵀ is packed once; each core walks its images in sub-chunks whose column matrix stays in L2, as
        // conv2d does (a DCGAN layer's whole-chunk columns would be 20 MB, written out and read back by col2im).
        let sub = convSubChunk(per: split.per, k: k, s: s)
        PackedA.with(transA: true, m: k, k: cin, a: W.p, lda: k, threads: Parallel.threads) { pa in
            split.forEach { ci, i0, nb in
                let sb = Swift.min(sub, nb)
                withScratch(cin * sb * s + k * sb * s) { xc in
                    let col = xc + cin * sb * s
                    var j = 0
                    while j < nb {
                        let cnt = Swift.min(sb, nb - j), cols = cnt * s
                        gatherChannels(X.p + (i0 + j) * cin * s, xc, nb: cnt, c: cin, s: s)
                        pa.multiply(transB: false, n: cols, b: xc, ldb: cols, beta: 0, c: col, ldc: cols, threads: gt)
                        for i in 0..<cnt {
                            let dst = O.p + (i0 + j + i) * cout * oh * ow
                            col2im(g, col + i * s, ldc: cols, dst)
                            if let B {
                                for o in 0..<cout {
                                    let bv = B.p[o], d = dst + o * oh * ow
                                    map8(d, d, oh * ow, { $0 + F8(repeating: bv) }, { $0 + bv })
                                }
                            }
                        }
                        j += cnt
                    }
                }
            }
        }
        var inputs = [x, weight]
        if let b = bias { inputs.append(b) }
        return out.recorded(inputs) { _, gy in
            convTransposeBackward(x: x, weight: weight, bias: bias, gOut: gy, geometry: g)
        }
    }
}

/// Gradients of conv2d: dx = col2im(Wᵀ·dY), dW = Σ dY·colᵀ, db = Σ dY, with dY masked by
/// `reluOutput > 0` when the forward fused a ReLU. Like the forward, each core walks its images in
/// L2-sized sub-chunks, and Wᵀ is packed once for all of them.
func convBackward(
    x: Tensor, weight: Tensor, bias: Tensor?, gOut: Tensor, reluOutput: Tensor?,
    geometry g: ConvGeometry
) -> [Tensor?] {
    let n = x.shape[0], oc = weight.shape[0]
    let s = g.colCols, k = g.colRows, inSize = g.c * g.h * g.w
    let split = BatchSplit(n), chunks = split.chunks, gt = split.gemmThreads
    let gx: Tensor? = x.requiresGrad ? Tensor(uninitialized: x.shape) : nil
    let wantW = weight.requiresGrad, wantB = bias?.requiresGrad ?? false
    // Per chunk: its dW (oc·k floats) then its db (oc floats).
    let partials = Tensor.zeros([chunks, oc * k + oc])
    // dW = dY·colᵀ [OC,K], or its transpose col·dYᵀ [K,OC] when that fills the micro-kernel's tiles better
    // (conv1 of a gray-image net has K = 9: as the N side of a 32-wide tile it would waste 72 %).
    let transposedW = gemmTileEfficiency(m: k, n: oc) > gemmTileEfficiency(m: oc, n: k)
    let sub = convSubChunk(per: split.per, k: k, s: s)
    let X = SendablePointer(x.data), W = SendablePointer(weight.data), G = SendablePointer(gOut.data)
    let Y = reluOutput.map { SendablePointer($0.data) }
    let GX = gx.map { SendablePointer($0.data) }, P = SendablePointer(partials.data)
    if g.c == 1 && g.stride == 1 && gx == nil {
        // A first layer on gray images: dW and db directly, images split over the cores.
        let ph = g.h + 2 * g.pad, pw = g.w + 2 * g.pad
        split.forEach { ci, i0, nb in
            let dW = P.p + ci * (oc * k + oc)
            withScratch(g.pad > 0 ? ph * pw : 0) { padded in
                for i in i0..<i0 + nb {
                    var src = UnsafePointer(X.p + i * inSize)
                    if g.pad > 0 {
                        padPlane(src, h: g.h, w: g.w, pad: g.pad, padded)
                        src = UnsafePointer(padded)
                    }
                    directConvWeightGradSingleChannel(
                        src, h: ph, w: pw, kh: g.kh, kw: g.kw, G.p + i * oc * s,
                        Y.map { UnsafePointer($0.p + i * oc * s) }, oc: oc,
                        dW, wantB ? dW + oc * k : nil)
                }
            }
        }
        return convWeightGradients(
            partials, chunks: chunks, weight: weight, bias: bias, oc: oc, k: k,
            layout: .asWeight, wantW: wantW, wantB: wantB, gx: gx)
    }
    func run(_ wT: PackedA?) {
        split.forEach { ci, i0, nb in
            let sb = Swift.min(sub, nb)
            let dW = P.p + ci * (oc * k + oc), dB = dW + oc * k
            withScratch(oc * sb * s + k * sb * s) { gc in
                let col = gc + oc * sb * s
                var j = 0
                while j < nb {
                    let cnt = Swift.min(sb, nb - j), cols = cnt * s
                    for i in 0..<cnt {
                        for ch in 0..<oc {
                            let src = G.p + ((i0 + j + i) * oc + ch) * s, dst = gc + ch * cols + i * s
                            if let Y {
                                zip8(
                                    src, Y.p + ((i0 + j + i) * oc + ch) * s, dst, s,
                                    { g, v in g.replacing(with: F8(), where: v .<= F8()) }, { g, v in v > 0 ? g : 0 })
                            } else {
                                copyFloats(dst, src, s)
                            }
                        }
                    }
                    if wantB { for ch in 0..<oc { dB[ch] += sumFloats(gc + ch * cols, cols) } }
                    if wantW {
                        for i in 0..<cnt { im2col(g, X.p + (i0 + j + i) * inSize, col + i * s, ldc: cols) }
                        let beta: Float = j == 0 ? 0 : 1
                        if transposedW {
                            sgemm(
                                transA: false, transB: true, m: k, n: oc, k: cols, a: col, lda: cols, b: gc, ldb: cols,
                                beta: beta, c: dW, ldc: oc, threads: gt)
                        } else {
                            sgemm(
                                transA: false, transB: true, m: oc, n: k, k: cols, a: gc, lda: cols, b: col, ldb: cols,
                                beta: beta, c: dW, ldc: k, threads: gt)
                        }
                    }
                    if let GX, let wT {
                        // One image at a time, so col2im reads columns the GEMM has just written.
                        for i in 0..<cnt {
                            wT.multiply(
                                transB: false, n: s, b: gc + i * s, ldb: cols, beta: 0, c: col, ldc: s, threads: gt)
                            let dst = GX.p + (i0 + j + i) * inSize
                            dst.update(repeating: 0, count: inSize)
                            col2im(g, col, ldc: s, dst)
                        }
                    }
                    j += cnt
                }
            }
        }
    }
    if GX != nil {
        PackedA.with(transA: true, m: k, k: oc, a: W.p, lda: k, threads: Parallel.threads) { run($0) }
    } else {
        run(nil)
    }
    return convWeightGradients(
        partials, chunks: chunks, weight: weight, bias: bias, oc: oc, k: k,
        layout: transposedW ? .transposed : .asWeight, wantW: wantW, wantB: wantB, gx: gx)
}

/// How a chunk's dW partial is stored: like the weight [OC, K], transposed [K, OC], or channel-last
/// [OC][taps][cp] with the input channels padded to cp (the pooled backward's layout).
enum WeightPartialLayout { case asWeight, transposed, channelLast(cp: Int) }

/// Sums the per-chunk dW/db partials ([chunks, oc·k + oc], dW in `layout`) into the gradient tensors
/// conv2d's backward returns.
func convWeightGradients(
    _ partials: Tensor, chunks: Int, weight: Tensor, bias: Tensor?, oc: Int, k: Int,
    layout: WeightPartialLayout, wantW: Bool, wantB: Bool, gx: Tensor?
) -> [Tensor?] {
    for ci in 1..<chunks { addInPlace(partials.data, partials.data + ci * (oc * k + oc), oc * k + oc) }
    var gw: Tensor?
    if wantW {
        let t = Tensor(uninitialized: weight.shape)
        switch layout {
        case .asWeight:
            t.data.update(from: partials.data, count: oc * k)
        case .transposed:
            for r in 0..<k { for o in 0..<oc { t.data[o * k + r] = partials.data[r * oc + o] } }
        case .channelLast(let cp):
            let c = weight.shape[1], taps = k / cp
            for o in 0..<oc {
                for ch in 0..<c {
                    for tap in 0..<taps {
                        t.data[(o * c + ch) * taps + tap] = partials.data[o * k + tap * cp + ch]
                    }
                }
            }
        }
        gw = t
    }
    var gb: Tensor?
    if wantB {
        let t = Tensor(uninitialized: [oc])
        t.data.update(from: partials.data + oc * k, count: oc)
        gb = t
    }
    return [gx, gw, gb]
}

/// Gradients of convTranspose2d: dx = W·im2col(dY), dW = Σ x·im2col(dY)ᵀ, db = Σ dY.
func convTransposeBackward(x: Tensor, weight: Tensor, bias: Tensor?, gOut: Tensor, geometry g: ConvGeometry)
    -> [Tensor?]
{
    let n = x.shape[0], cin = x.shape[1]
    let s = g.colCols, k = g.colRows, outSize = g.c * g.h * g.w
    let split = BatchSplit(n), chunks = split.chunks, gt = split.gemmThreads
    let gx: Tensor? = x.requiresGrad ? Tensor(uninitialized: x.shape) : nil
    let wantW = weight.requiresGrad
    let partials = Tensor.zeros([chunks, cin, k])
    let X = SendablePointer(x.data), W = SendablePointer(weight.data), G = SendablePointer(gOut.data)
    let GX = gx.map { SendablePointer($0.data) }, P = SendablePointer(partials.data)
    // Like the forward: W is packed once (for dx) and each core walks its images in L2-sized sub-chunks,
    // its dW partial accumulating over them.
    let sub = convSubChunk(per: split.per, k: k, s: s)
    func walk(_ pa: PackedA?) {
        split.forEach { ci, i0, nb in
            let sb = Swift.min(sub, nb)
            withScratch(k * sb * s + 2 * cin * sb * s) { col in
                let xc = col + k * sb * s, dxc = xc + cin * sb * s
                var j = 0
                while j < nb {
                    let cnt = Swift.min(sb, nb - j), cols = cnt * s
                    for i in 0..<cnt { im2col(g, G.p + (i0 + j + i) * outSize, col + i * s, ldc: cols) }
                    if wantW {
                        gatherChannels(X.p + (i0 + j) * cin * s, xc, nb: cnt, c: cin, s: s)
                        sgemm(
                            transA: false, transB: true, m: cin, n: k, k: cols, a: xc, lda: cols, b: col, ldb: cols,
                            beta: j == 0 ? 0 : 1, c: P.p + ci * cin * k, ldc: k, threads: gt)
                    }
                    if let GX, let pa {
                        pa.multiply(transB: false, n: cols, b: col, ldb: cols, beta: 0, c: dxc, ldc: cols, threads: gt)
                        scatterChannels(dxc, GX.p + (i0 + j) * cin * s, nb: cnt, c: cin, s: s)
                    }
                    j += cnt
                }
            }
        }
    }
    if gx != nil {
        PackedA.with(transA: false, m: cin, k: k, a: W.p, lda: k, threads: Parallel.threads) { walk($0) }
    } else {
        walk(nil)
    }
    var gw: Tensor?
    if wantW {
        let t = Tensor(uninitialized: weight.shape)
        t.data.update(from: partials.data, count: cin * k)
        for ci in 1..<chunks { addInPlace(t.data, partials.data + ci * cin * k, cin * k) }
        gw = t
    }
    return [gx, gw, bias.map { _ in channelSums(gOut, channels: g.c) }]
}

/// Σ over batch and space of a [N,C,...] tensor → [C].
func channelSums(_ t: Tensor, channels c: Int) -> Tensor {
    let n = t.shape[0], s = t.count / max(n * c, 1)
    let out = Tensor.zeros([c])
    for i in 0..<n { for ch in 0..<c { out.data[ch] += sumFloats(t.data + (i * c + ch) * s, s) } }
    return out
}

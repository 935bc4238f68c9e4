// conv2d (3×3, stride 1) + bias + ReLU + 2×2 max pooling as one op: a CNN block. Two fused forms:
// - Single-channel input (the first block of a gray-image CNN): each image's conv planes live in an
//   L1-sized scratch and only the pooled output and its argmax leave it. Unfused, its 26×26×32
//   activations per digit were written, read back by the pool, and in training read twice more (ReLU
//   mask, weight gradient) next to a same-sized gradient that was zeroed and scattered. Its backward
//   needs neither the conv output nor its gradient: a pooled output's gradient reaches exactly one conv
//   output (its argmax), and ReLU passed it iff the pooled value is > 0, so dW and db are sums over the
//   pooled positions only (a quarter of the work).
// - Several input channels (Winograd F(2×2, 3×3)): a 2×2 output tile is one pool window, so the output
//   transform writes only pooled values and argmaxes, and tiles no window reads are never computed.
//   Its backward works from the pooled gradient alone, which reaches at most a quarter of the conv
//   outputs (Kernels/PooledConvGradient.swift).

/// The one rule for when conv + ReLU + max-pool may run as `conv2dReluMaxPool2`; network builders ask
/// it, and the op checks its arguments against it.
public enum ConvReluPoolFusion {
    public static func applies(kernelSize: Int, stride: Int, poolSize: Int) -> Bool {
        kernelSize == 3 && stride == 1 && poolSize == 2
    }
}

extension Tensor {
    /// maxPool2d(conv2d(x, weight, bias, padding, relu: true), 2) for x: [N, C, H, W], weight: [OC, C, 3, 3].
    /// Equal to the unfused ops, which run instead where neither fused form applies (a single-channel x
    /// that needs a gradient, or a layer Winograd does not take: 2–7 input channels, padding > 2).
    ///
    ///     let h = x.conv2dReluMaxPool2(w, bias: b)   // [N, 32, 13, 13] for 28×28 digits
    public func conv2dReluMaxPool2(_ weight: Tensor, bias: Tensor? = nil, padding: Int = 0) -> Tensor {
        let x = self
        precondition(
            x.rank == 4 && weight.rank == 4 && weight.shape[1] == x.shape[1] && weight.shape[2] == weight.shape[3]
                && ConvReluPoolFusion.applies(kernelSize: weight.shape[2], stride: 1, poolSize: 2),
            "conv2dReluMaxPool2: input \(x.shape) must be [N,C,H,W] and weight \(weight.shape) [OC,C,3,3]")
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(h + 2 * padding >= 4 && w + 2 * padding >= 4, "conv2dReluMaxPool2: a \(h)×\(w) input is too small")
        let g = ConvGeometry(c: c, h: h, w: w, kh: 3, kw: 3, stride: 1, pad: padding)
        if c == 1 && !(x.requiresGrad && Autograd.isEnabled) {
            return singleChannelConvReluMaxPool2(weight, bias: bias, padding: padding)
        }
        if Winograd.applies(g, inChannels: c, batch: n) {
            return winogradConvReluMaxPool2(weight, bias: bias, geometry: g)
        }
        return x.conv2d(weight, bias: bias, padding: padding, relu: true).maxPool2d(2)
    }

    private func winogradConvReluMaxPool2(_ weight: Tensor, bias: Tensor?, geometry g: ConvGeometry) -> Tensor {
        let x = self
        let (n, oc) = (x.shape[0], weight.shape[0])
        let oh = g.oh, ow = g.ow, qh = oh / 2, qw = ow / 2
        if let b = bias { precondition(b.shape == [oc], "conv2dReluMaxPool2: bias \(b.shape), expected [\(oc)]") }
        let training = Autograd.isEnabled && (x.requiresGrad || weight.requiresGrad || (bias?.requiresGrad ?? false))
        let out = Tensor(uninitialized: [n, oc, qh, qw])
        let arg = training ? Storage(count: n * oc * qh * qw) : nil
        WinogradWeights.with(weight.data, oc: oc, c: g.c) { u in
            winogradConv3x3(
                x.data, n: n, h: g.h, w: g.w, pad: g.pad, u, bias: bias.map { UnsafePointer($0.data) },
                relu: true, .reluMaxPooled(out.data, argmax: arg?.base))
        }
        guard let arg else { return out }
        var inputs = [x, weight]
        if let b = bias { inputs.append(b) }
        return out.recorded(inputs) { y, gy in
            pooledConvBackward(x: x, weight: weight, bias: bias, gy: gy, y: y, argmax: arg, geometry: g)
        }
    }

    private func singleChannelConvReluMaxPool2(_ weight: Tensor, bias: Tensor?, padding: Int) -> Tensor {
        let x = self
        let (n, h, w, oc) = (x.shape[0], x.shape[2], x.shape[3], weight.shape[0])
        let ph = h + 2 * padding, pw = w + 2 * padding, oh = ph - 2, ow = pw - 2
        if let b = bias { precondition(b.shape == [oc], "conv2dReluMaxPool2: bias \(b.shape), expected [\(oc)]") }
        let qh = oh / 2, qw = ow / 2, plane = oh * ow
        let training = Autograd.isEnabled && (weight.requiresGrad || (bias?.requiresGrad ?? false))
        let out = Tensor(uninitialized: [n, oc, qh, qw])
        let arg = training ? Storage(count: n * oc * qh * qw) : nil
        let X = SendablePointer(x.data), W = SendablePointer(weight.data), O = SendablePointer(out.data)
        let B = bias.map { SendablePointer($0.data) }, A = arg.map { SendablePointer($0.base) }
        // Each unit's conv planes go to an L1-sized scratch and only their pooled values leave it.
        singleChannelConvUnits(X.p, n: n, h: h, w: w, pad: padding, oc: oc, scratch: 8 * plane) {
            i, channels, src, conv in
            let c0 = channels.lowerBound
            directConvSingleChannel(
                src, h: ph, w: pw, W.p, kh: 3, kw: 3, B.map { UnsafePointer($0.p) },
                relu: true, conv - c0 * plane, channels: channels)
            for o in channels {
                let dst = (i * oc + o) * qh * qw
                if let A {
                    maxPool2x2(conv + (o - c0) * plane, O.p + dst, A.p + dst, ow, qh, qw)
                } else {
                    maxPool2x2(conv + (o - c0) * plane, O.p + dst, ow, qh, qw)
                }
            }
        }
        guard let arg else { return out }
        var inputs = [x, weight]
        if let b = bias { inputs.append(b) }
        return out.recorded(inputs) { y, gy in
            // Per chunk of images: dW (oc·9 floats) then db (oc floats).
            let split = BatchSplit(n)
            let partials = Tensor.zeros([split.chunks, oc * 9 + oc])
            let P = SendablePointer(partials.data), G = SendablePointer(gy.data), Y = SendablePointer(y.data)
            let AR = SendablePointer(arg.base)
            // Each conv output's offset in the padded input plane (the argmax is an index into oh×ow).
            withScratchInt32(plane) { offsets in
                for p in 0..<plane { offsets[p] = Int32((p / ow) * pw + p % ow) }
                split.forEach { ci, i0, nb in
                    // + 8: a patch row is read as 8 floats, of which 3 are used.
                    withScratch(ph * pw + 8) { padded in
                        for i in i0..<i0 + nb {
                            padPlane(X.p + i * h * w, h: h, w: w, pad: padding, padded)
                            pooledConvWeightGradient(
                                padded, pw: pw, offsets, G.p + i * oc * qh * qw,
                                Y.p + i * oc * qh * qw, AR.p + i * oc * qh * qw, oc: oc, count: qh * qw,
                                P.p + ci * (oc * 9 + oc), P.p + ci * (oc * 9 + oc) + oc * 9)
                        }
                    }
                }
            }
            return convWeightGradients(
                partials, chunks: split.chunks, weight: weight, bias: bias, oc: oc, k: 9,
                layout: .asWeight, wantW: weight.requiresGrad,
                wantB: bias?.requiresGrad ?? false, gx: nil)
        }
    }
}

/// dW[o] += Σ_p g_p·patch(argmax_p), db[o] += Σ_p g_p over one image's pooled positions p with a positive
/// pooled value (ReLU let the gradient through); `arg` holds each argmax as an index into the OH×OW conv
/// output (Float bits), `offsets` maps that index to the patch's offset in `x`, the padded input plane (row
/// stride pw) with 8 floats of slack.
@inline(__always)
func pooledConvWeightGradient(
    _ x: UnsafePointer<Float>, pw: Int, _ offsets: UnsafePointer<Int32>, _ gy: UnsafePointer<Float>,
    _ y: UnsafePointer<Float>, _ arg: UnsafePointer<Float>, oc: Int, count: Int,
    _ dW: UnsafeMutablePointer<Float>, _ dB: UnsafeMutablePointer<Float>
) {
    for o in 0..<oc {
        var r0 = F8(), r1 = F8(), r2 = F8()  // lanes 0–2 of row r: taps (r, 0…2)
        var b: Float = 0
        let g = gy + o * count, v = y + o * count, a = arg + o * count
        for p in 0..<count {
            // A select, not a branch: whether ReLU passed a window is a coin flip to the predictor.
            let gp = v[p] > 0 ? g[p] : 0
            let base = x + Int(offsets[Int(a[p].bitPattern)])
            let gv = F8(repeating: gp)
            r0 = r0.addingProduct(gv, load8(base))
            r1 = r1.addingProduct(gv, load8(base + pw))
            r2 = r2.addingProduct(gv, load8(base + 2 * pw))
            b += gp
        }
        let d = dW + o * 9
        d[0] += r0[0]
        d[1] += r0[1]
        d[2] += r0[2]
        d[3] += r1[0]
        d[4] += r1[1]
        d[5] += r1[2]
        d[6] += r2[0]
        d[7] += r2[1]
        d[8] += r2[2]
        dB[o] += b
    }
}

/// [dx, dW, db] of y = maxPool2(ReLU(conv3x3(x, weight, bias))) from the pooled gradient gy, with `y` the
/// pooled output and `argmax` each window's winner in the conv plane. Each nonzero gradient (y > 0)
/// adds g·patch to dW[o] and g·W[o] to dx's patch, on channel-last copies (see PooledConvGradient.swift);
/// images are split over the cores, each with its own dW/db partial.
func pooledConvBackward(
    x: Tensor, weight: Tensor, bias: Tensor?, gy: Tensor, y: Tensor, argmax: Storage,
    geometry g: ConvGeometry
) -> [Tensor?] {
    let n = x.shape[0], oc = weight.shape[0], c = g.c
    let q = (g.oh / 2) * (g.ow / 2), ow = g.ow
    let planes = ChannelLastPlanes(c: c, h: g.h, w: g.w, pad: g.pad)
    let cp = planes.cp, rowLen = 3 * cp, rowStride = planes.rowStride, k = 9 * cp
    let wantX = x.requiresGrad, wantW = weight.requiresGrad, wantB = bias?.requiresGrad ?? false
    let gx: Tensor? = wantX ? Tensor(uninitialized: x.shape) : nil
    let split = BatchSplit(n)
    // Per chunk of images: dW as [oc][3][3][cp] (oc·k floats), then db (oc floats).
    let partials = Tensor.zeros([split.chunks, oc * k + oc])
    let X = SendablePointer(x.data), G = SendablePointer(gy.data), Y = SendablePointer(y.data)
    let AR = SendablePointer(argmax.base), P = SendablePointer(partials.data), GX = gx.map { SendablePointer($0.data) }
    // Int32 tables: each conv output pixel's offset in the channel-last planes (the argmax is an index
    // into oh×ow), then per chunk the nonzero entries' offsets, positions, W offsets, W offsets sorted by
    // position, and the counting sort's run starts.
    let positions = g.oh * g.ow, entriesMax = oc * q, perChunk = 4 * entriesMax + positions + 1
    withScratchInt32(positions + split.chunks * perChunk) { ints in
        let pixelOffset = ints
        for pos in 0..<positions { pixelOffset[pos] = Int32(planes.offset(pos / ow, pos % ow)) }
        withScratch(oc * k + 96) { wcl in  // + 96: the gather reads full 96-float blocks
            // W channel-last, [oc][ky][kx][cp], zero in the padding channels.
            if wantX {
                wcl.update(repeating: 0, count: oc * k + 96)
                for o in 0..<oc {
                    for ch in 0..<c { for t in 0..<9 { wcl[o * k + t * cp + ch] = weight.data[(o * c + ch) * 9 + t] } }
                }
            }
            let WC = SendablePointer(wcl)
            split.forEach { ci, i0, nb in
                // Per image, the nonzero gradients twice: by output channel (for dW: windows of one channel
                // against that channel's dW row) and by conv position (for dx: one position's channels
                // against W, summed in registers before one add into dx's patch row).
                let t = ints + positions + ci * perChunk
                let offs = t, entryAt = t + entriesMax, entryW = t + 2 * entriesMax
                let byPositionW = t + 3 * entriesMax, start = t + 4 * entriesMax
                let dW = P.p + ci * (oc * k + oc), dB = dW + oc * k
                withScratch(2 * planes.count + 2 * oc * q) { xh in
                    let dxh = xh + planes.count, gs = dxh + planes.count, byPositionG = gs + oc * q
                    for i in i0..<i0 + nb {
                        if wantW { planes.fill(xh, from: X.p + i * c * g.h * g.w) }
                        var entries = 0
                        for o in 0..<oc {
                            let at = (i * oc + o) * q, first = entries
                            var sum: Float = 0
                            for j in 0..<q where Y.p[at + j] > 0 {
                                let pos = Int32(truncatingIfNeeded: AR.p[at + j].bitPattern)
                                offs[entries] = pixelOffset[Int(pos)]
                                entryAt[entries] = pos
                                entryW[entries] = Int32(o * k)
                                gs[entries] = G.p[at + j]
                                sum += gs[entries]
                                entries += 1
                            }
                            let count = entries - first
                            if count == 0 { continue }
                            dB[o] += sum
                            if !wantW { continue }
                            for ky in 0..<3 {
                                var s = 0
                                while s < rowLen {
                                    let len = Swift.min(96, rowLen - s)
                                    gatherAccumulate(
                                        xh + ky * rowStride + s, offs + first, gs + first, count,
                                        dW + (o * 3 + ky) * rowLen + s, len)
                                    s += 96
                                }
                            }
                        }
                        guard let GX else { continue }
                        // Counting sort of the entries by conv position.
                        start.update(repeating: 0, count: positions + 1)
                        for e in 0..<entries { start[Int(entryAt[e]) + 1] += 1 }
                        for pos in 0..<positions { start[pos + 1] += start[pos] }
                        for e in 0..<entries {
                            let pos = Int(entryAt[e]), slot = start[pos]
                            byPositionW[Int(slot)] = entryW[e]
                            byPositionG[Int(slot)] = gs[e]
                            start[pos] = slot + 1
                        }
                        // start[pos] is now the end of pos's run, which is where pos + 1's begins.
                        dxh.update(repeating: 0, count: planes.count)
                        var begin = 0
                        for pos in 0..<positions {
                            let end = Int(start[pos]), count = end - begin
                            if count > 0 {
                                let base = dxh + Int(pixelOffset[pos])
                                for ky in 0..<3 {
                                    var s = 0
                                    while s < rowLen {
                                        let len = Swift.min(96, rowLen - s)
                                        gatherAccumulate(
                                            WC.p + ky * rowLen + s, byPositionW + begin, byPositionG + begin, count,
                                            base + ky * rowStride + s, len)
                                        s += 96
                                    }
                                }
                            }
                            begin = end
                        }
                        planes.extract(dxh, into: GX.p + i * c * g.h * g.w)
                    }
                }
            }
        }
    }
    return convWeightGradients(
        partials, chunks: split.chunks, weight: weight, bias: bias, oc: oc, k: k,
        layout: .channelLast(cp: cp), wantW: wantW, wantB: wantB, gx: gx)
}

// Direct convolution for single-channel input (the first layer of a gray-image net).
// As im2col + GEMM its depth is only KH·KW = 9, so the micro-kernel reloads and stores its C tile
// after every 9 FMAs and runs at a quarter of its speed; here each output row stays in registers
// while the 9 taps stream past, and bias + ReLU are applied before the single store.

/// y[o] = act(b[o] + Σ_{ky,kx} w[o,ky,kx] · x[oy+ky, ox+kx]) for one image; x is H×W (already padded),
/// y is OC×OH×OW with OH = H−KH+1, OW = W−KW+1. Channels `channels` only.
@inline(__always)
func directConvSingleChannel(
    _ x: UnsafePointer<Float>, h: Int, w: Int, _ wt: UnsafePointer<Float>, kh: Int, kw: Int,
    _ bias: UnsafePointer<Float>?, relu: Bool, _ y: UnsafeMutablePointer<Float>,
    channels: Range<Int>
) {
    let oh = h - kh + 1, ow = w - kw + 1, taps = kh * kw
    if kh == 3 && kw == 3 && ow >= 8 {
        directConv3x3SingleChannel(x, h: h, w: w, wt, bias, relu: relu, y, channels: channels)
        return
    }
    let zero = F8()
    for o in channels {
        let wo = wt + o * taps, yo = y + o * oh * ow
        let b = F8(repeating: bias?[o] ?? 0)
        for oy in 0..<oh {
            let row = x + oy * w, out = yo + oy * ow
            if ow < 8 {
                for ox in 0..<ow {
                    var s = bias?[o] ?? 0
                    for ky in 0..<kh { for kx in 0..<kw { s += wo[ky * kw + kx] * row[ky * w + ox + kx] } }
                    out[ox] = relu ? Swift.max(s, 0) : s
                }
                continue
            }
            // Blocks of 8 outputs, four at a time; the last block is shifted left to end at ow
            // (recomputing a few outputs is cheaper than a scalar tail).
            var ox = 0
            while ox < ow {
                let o0 = Swift.min(ox, ow - 8), o1 = Swift.min(ox + 8, ow - 8)
                let o2 = Swift.min(ox + 16, ow - 8), o3 = Swift.min(ox + 24, ow - 8)
                var a0 = b, a1 = b, a2 = b, a3 = b
                for ky in 0..<kh {
                    let r = row + ky * w, wr = wo + ky * kw
                    for kx in 0..<kw {
                        let wv = F8(repeating: wr[kx])
                        a0 = a0.addingProduct(wv, load8(r + o0 + kx))
                        a1 = a1.addingProduct(wv, load8(r + o1 + kx))
                        a2 = a2.addingProduct(wv, load8(r + o2 + kx))
                        a3 = a3.addingProduct(wv, load8(r + o3 + kx))
                    }
                }
                if relu {
                    a0 = pointwiseMax8(a0, zero)
                    a1 = pointwiseMax8(a1, zero)
                    a2 = pointwiseMax8(a2, zero)
                    a3 = pointwiseMax8(a3, zero)
                }
                store8(a0, out + o0)
                store8(a1, out + o1)
                store8(a2, out + o2)
                store8(a3, out + o3)
                ox += 32
            }
        }
    }
}

/// The 3×3 case of `directConvSingleChannel` for output rows at least 8 wide: two channels per pass
/// share every input load, and the unrolled taps give eight independent FMA chains (enough to hide
/// the FMA latency, which four chains of nine dependent FMAs did not).
@inline(__always)
func directConv3x3SingleChannel(
    _ x: UnsafePointer<Float>, h: Int, w: Int, _ wt: UnsafePointer<Float>,
    _ bias: UnsafePointer<Float>?, relu: Bool, _ y: UnsafeMutablePointer<Float>,
    channels: Range<Int>
) {
    let oh = h - 2, ow = w - 2, plane = oh * ow
    let zero = F8()
    var o = channels.lowerBound
    while o < channels.upperBound {
        // An odd last channel is computed twice (same value, same place).
        let oA = Swift.min(o, channels.upperBound - 1), oB = Swift.min(o + 1, channels.upperBound - 1)
        let wA = wt + oA * 9, wB = wt + oB * 9
        let bA = F8(repeating: bias?[oA] ?? 0), bB = F8(repeating: bias?[oB] ?? 0)
        let yA = y + oA * plane, yB = y + oB * plane
        for oy in 0..<oh {
            let row = x + oy * w
            var ox = 0
            while ox < ow {
                let o0 = Swift.min(ox, ow - 8), o1 = Swift.min(ox + 8, ow - 8)
                let o2 = Swift.min(ox + 16, ow - 8), o3 = Swift.min(ox + 24, ow - 8)
                var a0 = bA, a1 = bA, a2 = bA, a3 = bA, c0 = bB, c1 = bB, c2 = bB, c3 = bB
                for t in 0..<9 {
                    let r = row + (t / 3) * w + t % 3
                    let x0 = load8(r + o0), x1 = load8(r + o1), x2 = load8(r + o2), x3 = load8(r + o3)
                    let va = F8(repeating: wA[t]), vb = F8(repeating: wB[t])
                    a0 = a0.addingProduct(va, x0)
                    a1 = a1.addingProduct(va, x1)
                    a2 = a2.addingProduct(va, x2)
                    a3 = a3.addingProduct(va, x3)
                    c0 = c0.addingProduct(vb, x0)
                    c1 = c1.addingProduct(vb, x1)
                    c2 = c2.addingProduct(vb, x2)
                    c3 = c3.addingProduct(vb, x3)
                }
                if relu {
                    a0 = pointwiseMax8(a0, zero)
                    a1 = pointwiseMax8(a1, zero)
                    a2 = pointwiseMax8(a2, zero)
                    a3 = pointwiseMax8(a3, zero)
                    c0 = pointwiseMax8(c0, zero)
                    c1 = pointwiseMax8(c1, zero)
                    c2 = pointwiseMax8(c2, zero)
                    c3 = pointwiseMax8(c3, zero)
                }
                let dA = yA + oy * ow, dB = yB + oy * ow
                store8(a0, dA + o0)
                store8(a1, dA + o1)
                store8(a2, dA + o2)
                store8(a3, dA + o3)
                store8(c0, dB + o0)
                store8(c1, dB + o1)
                store8(c2, dB + o2)
                store8(c3, dB + o3)
                ox += 32
            }
        }
        o += 2
    }
}

/// Runs a single-channel convolution's forward work in units of (image, 8 output channels), split over the
/// cores, so even one image keeps both busy. `body` gets the image, its channels, the image's plane
/// (zero-padded by `pad`, padded once per image) and `scratch` floats of the caller's own.
func singleChannelConvUnits(
    _ x: UnsafePointer<Float>, n: Int, h: Int, w: Int, pad: Int, oc: Int, scratch: Int,
    _ body: (
        _ image: Int, _ channels: Range<Int>, _ plane: UnsafePointer<Float>,
        _ scratch: UnsafeMutablePointer<Float>
    ) -> Void
) {
    let groups = (oc + 7) / 8, ph = h + 2 * pad, pw = w + 2 * pad
    let X = SendablePointer(UnsafeMutablePointer(mutating: x))
    Parallel.forRanges(n * groups, minChunk: 1) { r in
        withScratch((pad > 0 ? ph * pw : 0) + scratch) { buffer in
            let padded = buffer + scratch
            var lastImage = -1
            for u in r {
                let i = u / groups, c0 = (u % groups) * 8
                var src = UnsafePointer(X.p + i * h * w)
                if pad > 0 {
                    if i != lastImage { padPlane(src, h: h, w: w, pad: pad, padded) }
                    src = UnsafePointer(padded)
                }
                lastImage = i
                body(i, c0..<Swift.min(oc, c0 + 8), src, buffer)
            }
        }
    }
}

/// Copies an H×W plane into the middle of a zero (H+2p)×(W+2p) plane.
@inline(__always)
func padPlane(_ x: UnsafePointer<Float>, h: Int, w: Int, pad: Int, _ out: UnsafeMutablePointer<Float>) {
    let pw = w + 2 * pad
    out.update(repeating: 0, count: (h + 2 * pad) * pw)
    for y in 0..<h { copyFloats(out + (y + pad) * pw + pad, x + y * w, w) }
}

/// Weight and bias gradients of a single-channel convolution for one image, accumulated into dW
/// ([OC, KH·KW]) and dB ([OC]): dW[o, ky, kx] += Σ g[o, oy, ox] · x[oy+ky, ox+kx] with g = dY, masked by
/// y > 0 when the forward fused a ReLU. x is the (padded) H×W plane. As a GEMM this product has depth
/// KH·KW = 9 and packing its operands cost several times the arithmetic; here each output row is read
/// once and every tap's sum stays in a register.
@inline(__always)
func directConvWeightGradSingleChannel(
    _ x: UnsafePointer<Float>, h: Int, w: Int, kh: Int, kw: Int,
    _ gy: UnsafePointer<Float>, _ y: UnsafePointer<Float>?, oc: Int,
    _ dW: UnsafeMutablePointer<Float>, _ dB: UnsafeMutablePointer<Float>?
) {
    let oh = h - kh + 1, ow = w - kw + 1, taps = kh * kw, plane = oh * ow
    let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
    if kh == 3 && kw == 3 && ow >= 8 {
        // The common case: two channels per pass share each input load; the 2×9 tap sums and the two
        // bias sums stay in registers. An odd last channel is paired with itself and added once.
        var o = 0
        while o < oc {
            let oB = Swift.min(o + 1, oc - 1)
            var a0 = F8(), a1 = F8(), a2 = F8(), a3 = F8(), a4 = F8(), a5 = F8(), a6 = F8(), a7 = F8(), a8 = F8()
            var b0 = F8(), b1 = F8(), b2 = F8(), b3 = F8(), b4 = F8(), b5 = F8(), b6 = F8(), b7 = F8(), b8 = F8()
            var sumA = F8(), sumB = F8()
            let gA = gy + o * plane, gB = gy + oB * plane
            let yA = y.map { $0 + o * plane }, yB = y.map { $0 + oB * plane }
            for oy in 0..<oh {
                let r0 = x + oy * w, r1 = r0 + w, r2 = r1 + w
                var ox = 0
                while ox < ow {
                    let o0 = Swift.min(ox, ow - 8), at = oy * ow + o0
                    var ga = load8(gA + at), gb = load8(gB + at)
                    if let yA, let yB {
                        ga = ga.replacing(with: F8(), where: load8(yA + at) .<= F8())
                        gb = gb.replacing(with: F8(), where: load8(yB + at) .<= F8())
                    }
                    if o0 < ox {
                        let seen = lanes .< SIMD8<Int32>(repeating: Int32(ox - o0))
                        ga = ga.replacing(with: F8(), where: seen)
                        gb = gb.replacing(with: F8(), where: seen)
                    }
                    sumA += ga
                    sumB += gb
                    var v = load8(r0 + o0)
                    a0 = a0.addingProduct(ga, v)
                    b0 = b0.addingProduct(gb, v)
                    v = load8(r0 + o0 + 1)
                    a1 = a1.addingProduct(ga, v)
                    b1 = b1.addingProduct(gb, v)
                    v = load8(r0 + o0 + 2)
                    a2 = a2.addingProduct(ga, v)
                    b2 = b2.addingProduct(gb, v)
                    v = load8(r1 + o0)
                    a3 = a3.addingProduct(ga, v)
                    b3 = b3.addingProduct(gb, v)
                    v = load8(r1 + o0 + 1)
                    a4 = a4.addingProduct(ga, v)
                    b4 = b4.addingProduct(gb, v)
                    v = load8(r1 + o0 + 2)
                    a5 = a5.addingProduct(ga, v)
                    b5 = b5.addingProduct(gb, v)
                    v = load8(r2 + o0)
                    a6 = a6.addingProduct(ga, v)
                    b6 = b6.addingProduct(gb, v)
                    v = load8(r2 + o0 + 1)
                    a7 = a7.addingProduct(ga, v)
                    b7 = b7.addingProduct(gb, v)
                    v = load8(r2 + o0 + 2)
                    a8 = a8.addingProduct(ga, v)
                    b8 = b8.addingProduct(gb, v)
                    ox = o0 + 8
                }
            }
            let d = dW + o * 9
            d[0] += a0.sum()
            d[1] += a1.sum()
            d[2] += a2.sum()
            d[3] += a3.sum()
            d[4] += a4.sum()
            d[5] += a5.sum()
            d[6] += a6.sum()
            d[7] += a7.sum()
            d[8] += a8.sum()
            if let dB { dB[o] += sumA.sum() }
            if oB != o {
                let e = dW + oB * 9
                e[0] += b0.sum()
                e[1] += b1.sum()
                e[2] += b2.sum()
                e[3] += b3.sum()
                e[4] += b4.sum()
                e[5] += b5.sum()
                e[6] += b6.sum()
                e[7] += b7.sum()
                e[8] += b8.sum()
                if let dB { dB[oB] += sumB.sum() }
            }
            o += 2
        }
        return
    }
    // Other kernel sizes and narrow outputs (rare for a first layer): plain loops.
    for o in 0..<oc {
        let go = gy + o * plane, yo = y.map { $0 + o * plane }
        for p in 0..<plane where yo.map({ $0[p] > 0 }) ?? true {
            let g = go[p], row = x + (p / ow) * w + p % ow
            for ky in 0..<kh { for kx in 0..<kw { dW[o * taps + ky * kw + kx] += g * row[ky * w + kx] } }
            dB?[o] += g
        }
    }
}

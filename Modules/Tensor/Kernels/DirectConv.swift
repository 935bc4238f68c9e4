// Direct convolution for single-channel input (the first layer of a gray-image net).
// As im2col + GEMM its depth is only KH·KW = 9, so the micro-kernel reloads and stores its C tile
// after every 9 FMAs and runs at a quarter of its speed; here each output row stays in registers
// while the 9 taps stream past, and bias + ReLU are applied before the single store.

/// y[o] = act(b[o] + Σ_{ky,kx} w[o,ky,kx] · x[oy+ky, ox+kx]) for one image; x is H×W (already padded),
/// y is OC×OH×OW with OH = H−KH+1, OW = W−KW+1. Channels `channels` only.
@inline(__always)
func directConvSingleChannel(_ x: UnsafePointer<Float>, h: Int, w: Int, _ wt: UnsafePointer<Float>, kh: Int, kw: Int,
                             _ bias: UnsafePointer<Float>?, relu: Bool, _ y: UnsafeMutablePointer<Float>,
                             channels: Range<Int>) {
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
                if relu { a0 = pointwiseMax8(a0, zero); a1 = pointwiseMax8(a1, zero); a2 = pointwiseMax8(a2, zero); a3 = pointwiseMax8(a3, zero) }
                store8(a0, out + o0); store8(a1, out + o1); store8(a2, out + o2); store8(a3, out + o3)
                ox += 32
            }
        }
    }
}

/// The 3×3 case of `directConvSingleChannel` for output rows at least 8 wide: two channels per pass
/// share every input load, and the unrolled taps give eight independent FMA chains (enough to hide
/// the FMA latency, which four chains of nine dependent FMAs did not).
@inline(__always)
func directConv3x3SingleChannel(_ x: UnsafePointer<Float>, h: Int, w: Int, _ wt: UnsafePointer<Float>,
                                _ bias: UnsafePointer<Float>?, relu: Bool, _ y: UnsafeMutablePointer<Float>,
                                channels: Range<Int>) {
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
                    a0 = a0.addingProduct(va, x0); a1 = a1.addingProduct(va, x1)
                    a2 = a2.addingProduct(va, x2); a3 = a3.addingProduct(va, x3)
                    c0 = c0.addingProduct(vb, x0); c1 = c1.addingProduct(vb, x1)
                    c2 = c2.addingProduct(vb, x2); c3 = c3.addingProduct(vb, x3)
                }
                if relu {
                    a0 = pointwiseMax8(a0, zero); a1 = pointwiseMax8(a1, zero); a2 = pointwiseMax8(a2, zero); a3 = pointwiseMax8(a3, zero)
                    c0 = pointwiseMax8(c0, zero); c1 = pointwiseMax8(c1, zero); c2 = pointwiseMax8(c2, zero); c3 = pointwiseMax8(c3, zero)
                }
                let dA = yA + oy * ow, dB = yB + oy * ow
                store8(a0, dA + o0); store8(a1, dA + o1); store8(a2, dA + o2); store8(a3, dA + o3)
                store8(c0, dB + o0); store8(c1, dB + o1); store8(c2, dB + o2); store8(c3, dB + o3)
                ox += 32
            }
        }
        o += 2
    }
}

/// Copies an H×W plane into the middle of a zero (H+2p)×(W+2p) plane.
@inline(__always)
func padPlane(_ x: UnsafePointer<Float>, h: Int, w: Int, pad: Int, _ out: UnsafeMutablePointer<Float>) {
    let pw = w + 2 * pad
    out.update(repeating: 0, count: (h + 2 * pad) * pw)
    for y in 0..<h { copyFloats(out + (y + pad) * pw + pad, x + y * w, w) }
}

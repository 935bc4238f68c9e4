// maxPool2d and avgPool2d over [N,C,H,W] (no padding; floor output size, as PyTorch's default).

extension Tensor {
    /// Max pooling; gradient goes to the (first) maximum of each window.
    ///
    ///     x.maxPool2d(2)   // 2×2 windows, stride 2
    public func maxPool2d(_ kernel: Int, stride: Int? = nil) -> Tensor {
        let st = stride ?? kernel
        precondition(
            rank == 4 && kernel >= 1 && st >= 1 && shape[2] >= kernel && shape[3] >= kernel,
            "maxPool2d(\(kernel)): input \(shape) must be [N,C,H,W] with H,W ≥ kernel")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let oh = (h - kernel) / st + 1, ow = (w - kernel) / st + 1
        let out = Tensor(uninitialized: [n, c, oh, ow])
        let planes = n * c
        let src = SendablePointer(data), dst = SendablePointer(out.data)
        let s = shape
        let training = Autograd.isEnabled && requiresGrad
        if kernel == 2 && st == 2 && !training {
            // Inference: the max alone, no argmax bookkeeping.
            Parallel.forRanges(planes, minChunk: 64) { r in
                for p in r { maxPool2x2(src.p + p * h * w, dst.p + p * oh * ow, w, oh, ow) }
            }
            return out
        }
        let arg = Storage(count: planes * oh * ow)  // argmax index within the plane, as Float bits
        let A = SendablePointer(arg.base)
        Parallel.forRanges(planes, minChunk: 64) { r in
            if kernel == 2 && st == 2 {
                for p in r { maxPool2x2(src.p + p * h * w, dst.p + p * oh * ow, A.p + p * oh * ow, w, oh, ow) }
                return
            }
            for p in r {
                let x = src.p + p * h * w, y = dst.p + p * oh * ow, a = A.p + p * oh * ow
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var best = -Float.infinity, bi = 0
                        for ky in 0..<kernel {
                            for kx in 0..<kernel {
                                let idx = (oy * st + ky) * w + ox * st + kx
                                if x[idx] > best {
                                    best = x[idx]
                                    bi = idx
                                }
                            }
                        }
                        if best == -Float.infinity { bi = oy * st * w + ox * st }
                        y[oy * ow + ox] = best
                        a[oy * ow + ox] = Float(bitPattern: UInt32(bi))
                    }
                }
            }
        }
        return out.recorded([self]) { _, g in
            let gi = Tensor(uninitialized: s)
            let GI = SendablePointer(gi.data), G = SendablePointer(g.data), AR = SendablePointer(arg.base)
            // Planes are independent: split them over cores (the first conv's activations are large).
            Parallel.forRanges(planes, minChunk: 64) { r in
                for p in r {
                    let gx = GI.p + p * h * w, gy = G.p + p * oh * ow, a = AR.p + p * oh * ow
                    gx.update(repeating: 0, count: h * w)
                    for j in 0..<oh * ow { gx[Int(a[j].bitPattern)] += gy[j] }
                }
            }
            return [gi]
        }
    }

    /// Average pooling over kernel×kernel windows.
    public func avgPool2d(_ kernel: Int, stride: Int? = nil) -> Tensor {
        let st = stride ?? kernel
        precondition(
            rank == 4 && kernel >= 1 && st >= 1 && shape[2] >= kernel && shape[3] >= kernel,
            "avgPool2d(\(kernel)): input \(shape) must be [N,C,H,W] with H,W ≥ kernel")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let oh = (h - kernel) / st + 1, ow = (w - kernel) / st + 1
        let out = Tensor(uninitialized: [n, c, oh, ow])
        let inv = 1 / Float(kernel * kernel)
        for p in 0..<n * c {
            let x = data + p * h * w, y = out.data + p * oh * ow
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var s: Float = 0
                    for ky in 0..<kernel { for kx in 0..<kernel { s += x[(oy * st + ky) * w + ox * st + kx] } }
                    y[oy * ow + ox] = s * inv
                }
            }
        }
        let sh = shape
        return out.recorded([self]) { _, g in
            let gi = Tensor.zeros(sh)
            for p in 0..<n * c {
                let gx = gi.data + p * h * w, gy = g.data + p * oh * ow
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let v = gy[oy * ow + ox] * inv
                        for ky in 0..<kernel { for kx in 0..<kernel { gx[(oy * st + ky) * w + ox * st + kx] += v } }
                    }
                }
            }
            return [gi]
        }
    }
}

/// 2×2/2 max pooling of one plane: SIMD over 8 outputs (even/odd lanes of 16 inputs); rows shorter
/// than 8 outputs run scalar.
@inline(__always)
func maxPool2x2(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ w: Int, _ oh: Int, _ ow: Int) {
    for oy in 0..<oh {
        let r0 = x + 2 * oy * w, r1 = r0 + w, out = y + oy * ow
        var ox = 0
        while ow >= 8 && ox < ow {
            ox = Swift.min(ox, ow - 8)  // a row's last block overlaps the one before instead of a scalar tail
            let a = load16(r0 + 2 * ox), b = load16(r1 + 2 * ox)
            let v = a.replacing(with: b, where: b .> a)
            store8(pointwiseMax8(v.evenHalf, v.oddHalf), out + ox)
            ox += 8
        }
        while ox < ow {
            let i = 2 * ox
            out[ox] = Swift.max(Swift.max(r0[i], r0[i + 1]), Swift.max(r1[i], r1[i + 1]))
            ox += 1
        }
    }
}

/// 2×2/2 max pooling of one plane that also records each window's winner (its index within the plane,
/// as Float bits; the first maximum on ties, as PyTorch). SIMD over 8 outputs with selects; rows shorter
/// than 8 outputs run scalar.
@inline(__always)
func maxPool2x2(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ arg: UnsafeMutablePointer<Float>,
    _ w: Int, _ oh: Int, _ ow: Int
) {
    let lane2 = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
    let one = SIMD8<Int32>(repeating: 1), down = SIMD8<Int32>(repeating: Int32(w))
    for oy in 0..<oh {
        let r0 = 2 * oy * w, r1 = r0 + w, out = oy * ow
        var ox = 0
        while ow >= 8 && ox < ow {
            ox = Swift.min(ox, ow - 8)  // a row's last block overlaps the one before instead of a scalar tail
            let top = load16(x + r0 + 2 * ox), bottom = load16(x + r1 + 2 * ox)
            let a = top.evenHalf, b = top.oddHalf, c = bottom.evenHalf, d = bottom.oddHalf
            let i0 = lane2 &+ SIMD8<Int32>(repeating: Int32(r0 + 2 * ox))
            let ab = b .> a, cd = d .> c
            let m1 = a.replacing(with: b, where: ab), m2 = c.replacing(with: d, where: cd)
            let j1 = i0.replacing(with: i0 &+ one, where: ab)
            let j2 = (i0 &+ down).replacing(with: i0 &+ down &+ one, where: cd)
            let second = m2 .> m1
            store8(m1.replacing(with: m2, where: second), y + out + ox)
            let j = j1.replacing(with: j2, where: second)
            UnsafeMutableRawPointer(arg + out + ox).storeBytes(of: j, as: SIMD8<Int32>.self)
            ox += 8
        }
        while ox < ow {
            let i0 = r0 + 2 * ox, i1 = r1 + 2 * ox
            let a = x[i0], b = x[i0 + 1], c = x[i1], d = x[i1 + 1]
            let ab = b > a, cd = d > c
            let m1 = ab ? b : a, m2 = cd ? d : c
            let j1 = ab ? i0 + 1 : i0, j2 = cd ? i1 + 1 : i1
            let second = m2 > m1
            y[out + ox] = second ? m2 : m1
            arg[out + ox] = Float(bitPattern: UInt32(truncatingIfNeeded: second ? j2 : j1))
            ox += 1
        }
    }
}

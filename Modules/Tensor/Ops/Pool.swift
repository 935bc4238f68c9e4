// maxPool2d and avgPool2d over [N,C,H,W] (no padding; floor output size, as PyTorch's default).

extension Tensor {
    /// Max pooling; gradient goes to the (first) maximum of each window.
    ///
    ///     x.maxPool2d(2)   // 2×2 windows, stride 2
    public func maxPool2d(_ kernel: Int, stride: Int? = nil) -> Tensor {
        let st = stride ?? kernel
        precondition(rank == 4 && kernel >= 1 && st >= 1 && shape[2] >= kernel && shape[3] >= kernel,
                     "maxPool2d(\(kernel)): input \(shape) must be [N,C,H,W] with H,W ≥ kernel")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let oh = (h - kernel) / st + 1, ow = (w - kernel) / st + 1
        let out = Tensor(uninitialized: [n, c, oh, ow])
        let planes = n * c
        let arg = Storage(count: planes * oh * ow)   // argmax index within the plane, as Float bits
        let src = SendablePointer(data), dst = SendablePointer(out.data), A = SendablePointer(arg.base)
        Parallel.forRanges(planes, minChunk: 64) { r in
            if kernel == 2 && st == 2 {
                for p in r { maxPool2x2(src.p + p * h * w, dst.p + p * oh * ow, A.p + p * oh * ow, w, oh, ow) }
                return
            }
            for p in r {
                let x = src.p + p * h * w, y = dst.p + p * oh * ow, a = A.p + p * oh * ow
                for oy in 0..<oh { for ox in 0..<ow {
                    var best = -Float.infinity, bi = 0
                    for ky in 0..<kernel { for kx in 0..<kernel {
                        let idx = (oy * st + ky) * w + ox * st + kx
                        if x[idx] > best { best = x[idx]; bi = idx }
                    } }
                    if best == -Float.infinity { bi = oy * st * w + ox * st }
                    y[oy * ow + ox] = best
                    a[oy * ow + ox] = Float(bitPattern: UInt32(bi))
                } }
            }
        }
        let s = shape
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
        precondition(rank == 4 && kernel >= 1 && st >= 1 && shape[2] >= kernel && shape[3] >= kernel,
                     "avgPool2d(\(kernel)): input \(shape) must be [N,C,H,W] with H,W ≥ kernel")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let oh = (h - kernel) / st + 1, ow = (w - kernel) / st + 1
        let out = Tensor(uninitialized: [n, c, oh, ow])
        let inv = 1 / Float(kernel * kernel)
        for p in 0..<n * c {
            let x = data + p * h * w, y = out.data + p * oh * ow
            for oy in 0..<oh { for ox in 0..<ow {
                var s: Float = 0
                for ky in 0..<kernel { for kx in 0..<kernel { s += x[(oy * st + ky) * w + ox * st + kx] } }
                y[oy * ow + ox] = s * inv
            } }
        }
        let sh = shape
        return out.recorded([self]) { _, g in
            let gi = Tensor.zeros(sh)
            for p in 0..<n * c {
                let gx = gi.data + p * h * w, gy = g.data + p * oh * ow
                for oy in 0..<oh { for ox in 0..<ow {
                    let v = gy[oy * ow + ox] * inv
                    for ky in 0..<kernel { for kx in 0..<kernel { gx[(oy * st + ky) * w + ox * st + kx] += v } }
                } }
            }
            return [gi]
        }
    }
}

/// 2×2/2 max pooling of one plane; `arg` gets the winning index within the plane (as Float bits).
/// Written with selects, not branches: on real activations the comparisons are unpredictable.
@inline(__always)
func maxPool2x2(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ arg: UnsafeMutablePointer<Float>,
                _ w: Int, _ oh: Int, _ ow: Int) {
    for oy in 0..<oh {
        let r0 = 2 * oy * w, r1 = r0 + w
        for ox in 0..<ow {
            let i0 = r0 + 2 * ox, i1 = r1 + 2 * ox
            let a = x[i0], b = x[i0 + 1], c = x[i1], d = x[i1 + 1]
            let ab = b > a, cd = d > c
            let m1 = ab ? b : a, m2 = cd ? d : c
            let j1 = ab ? i0 + 1 : i0, j2 = cd ? i1 + 1 : i1
            let second = m2 > m1
            y[oy * ow + ox] = second ? m2 : m1
            arg[oy * ow + ox] = Float(bitPattern: UInt32(truncatingIfNeeded: second ? j2 : j1))
        }
    }
}

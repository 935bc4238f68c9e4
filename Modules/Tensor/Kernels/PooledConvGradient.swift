// Kernels for the gradients of a 3×3 convolution whose output went through ReLU and 2×2 max pooling.
// Pooling sends each window's gradient to one conv output (its argmax) and ReLU passes it only where the
// pooled value is > 0, so at most a quarter of dY is nonzero (25 of 121 positions per channel for the
// seed CNN's conv2). The dense GEMMs of conv2d's backward (dW = dY·colᵀ, dX = col2im(Wᵀ·dY)) would
// multiply mostly zeros. Instead each nonzero gradient g at conv output (py, px) of channel o does
//   dW[o] += g · patch(py, px)      summed over o's nonzero positions, per row of dW[o]
//   dX[patch(py, px)] += g · W[o]   summed over the position's nonzero channels, per patch row
// on channel-last copies of x, dX and W, where a patch row (3 taps × C channels) is contiguous. Both are
// the same gather: twelve accumulators in registers, one add into the destination at the end. (dX as a
// scatter-add per nonzero, a load-FMA-store chain per vector, measured 2 % slower in training.)

/// One image's planes in channel-last order, zero-padded: (h + 2·pad) × (w + 2·pad) pixels of `cp`
/// channels (C rounded up to 8), then 96 floats of slack for the kernels' full-width reads.
struct ChannelLastPlanes {
    let c, h, w, pad, cp, hp, wp: Int
    init(c: Int, h: Int, w: Int, pad: Int) {
        self.c = c
        self.h = h
        self.w = w
        self.pad = pad
        cp = (c + 7) / 8 * 8
        hp = h + 2 * pad
        wp = w + 2 * pad
    }
    var count: Int { hp * wp * cp + 96 }
    /// Floats from one padded row to the next.
    var rowStride: Int { wp * cp }
    /// Offset of padded pixel (y, x).
    @inline(__always) func offset(_ y: Int, _ x: Int) -> Int { (y * wp + x) * cp }

    /// dst = x ([c, h, w], channel-first), padded with zeros.
    func fill(_ dst: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>) {
        dst.update(repeating: 0, count: count)
        let rest = forEachBlock { c0, r, col in
            transposeBlock8x8(x + (c0 * h + r) * w + col, h * w, dst + offset(r + pad, col + pad) + c0, cp)
        }
        for ch in rest..<c {
            for r in 0..<h {
                let d = dst + offset(r + pad, pad) + ch, s = x + (ch * h + r) * w
                for col in 0..<w { d[col * cp] = s[col] }
            }
        }
    }

    /// x ([c, h, w]) = the unpadded interior of src.
    func extract(_ src: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>) {
        let rest = forEachBlock { c0, r, col in
            transposeBlock8x8(src + offset(r + pad, col + pad) + c0, cp, x + (c0 * h + r) * w + col, h * w)
        }
        for ch in rest..<c {
            for r in 0..<h {
                let s = src + offset(r + pad, pad) + ch, d = x + (ch * h + r) * w
                for col in 0..<w { d[col] = s[col * cp] }
            }
        }
    }

    /// Calls body(c0, row, col) for the 8-channel × 8-pixel blocks the in-register transpose moves between
    /// the layouts (a row's last block overlaps the one before); returns the first channel left to the
    /// scalar loops (the channels past the last multiple of 8, or all of them for rows shorter than 8).
    @inline(__always)
    private func forEachBlock(_ body: (_ c0: Int, _ row: Int, _ col: Int) -> Void) -> Int {
        guard w >= 8 else { return 0 }
        var c0 = 0
        while c0 + 8 <= c {
            for r in 0..<h {
                var col = 0
                while true {
                    body(c0, r, col)
                    if col == w - 8 { break }
                    col = Swift.min(col + 8, w - 8)
                }
            }
            c0 += 8
        }
        return c0
    }
}

/// out[0..<len] += Σᵢ gs[i] · x[offs[i] ..< offs[i] + len], for len ≤ 96 a multiple of 8. Twelve
/// accumulators stay in registers across the windows; x must be readable 96 floats past every offset.
@inline(__always)
func gatherAccumulate(
    _ x: UnsafePointer<Float>, _ offs: UnsafePointer<Int32>, _ gs: UnsafePointer<Float>, _ count: Int,
    _ out: UnsafeMutablePointer<Float>, _ len: Int
) {
    var a0 = F8(), a1 = F8(), a2 = F8(), a3 = F8(), a4 = F8(), a5 = F8()
    var a6 = F8(), a7 = F8(), a8 = F8(), a9 = F8(), a10 = F8(), a11 = F8()
    for i in 0..<count {
        let g = F8(repeating: gs[i]), b = x + Int(offs[i])
        a0 = a0.addingProduct(g, load8(b))
        a1 = a1.addingProduct(g, load8(b + 8))
        a2 = a2.addingProduct(g, load8(b + 16))
        a3 = a3.addingProduct(g, load8(b + 24))
        a4 = a4.addingProduct(g, load8(b + 32))
        a5 = a5.addingProduct(g, load8(b + 40))
        a6 = a6.addingProduct(g, load8(b + 48))
        a7 = a7.addingProduct(g, load8(b + 56))
        a8 = a8.addingProduct(g, load8(b + 64))
        a9 = a9.addingProduct(g, load8(b + 72))
        a10 = a10.addingProduct(g, load8(b + 80))
        a11 = a11.addingProduct(g, load8(b + 88))
    }
    @inline(__always) func add(_ j: Int, _ a: F8) { if 8 * j < len { store8(load8(out + 8 * j) + a, out + 8 * j) } }
    add(0, a0)
    add(1, a1)
    add(2, a2)
    add(3, a3)
    add(4, a4)
    add(5, a5)
    add(6, a6)
    add(7, a7)
    add(8, a8)
    add(9, a9)
    add(10, a10)
    add(11, a11)
}

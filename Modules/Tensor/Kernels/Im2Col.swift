// im2col / col2im: the bridge between convolution and GEMM.
// col has rows (c, ky, kx) and columns (oy, ox); `ldc` lets several images share one wide column matrix.

/// Geometry of a 2-D convolution of one image: input C×H×W, kernel KH×KW, output OH×OW.
public struct ConvGeometry: Equatable {
    public let c, h, w, kh, kw, stride, pad, oh, ow: Int
    public init(c: Int, h: Int, w: Int, kh: Int, kw: Int, stride: Int, pad: Int) {
        self.c = c
        self.h = h
        self.w = w
        self.kh = kh
        self.kw = kw
        self.stride = stride
        self.pad = pad
        oh = (h + 2 * pad - kh) / stride + 1
        ow = (w + 2 * pad - kw) / stride + 1
    }
    public var colRows: Int { c * kh * kw }
    public var colCols: Int { oh * ow }
}

/// x: [C,H,W] → col: [C·KH·KW, OH·OW] written at column offset 0 of rows with leading dimension ldc.
public func im2col(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, ldc: Int) {
    if g.stride == 1 && g.pad == 0 {
        im2colValid(g, x, col, ldc: ldc)
        return
    }
    if g.stride == 1 {
        im2colPadded(g, x, col, ldc: ldc)
        return
    }
    var row = 0
    for c in 0..<g.c {
        let xc = x + c * g.h * g.w
        for ky in 0..<g.kh {
            for kx in 0..<g.kw {
                let dst = col + row * ldc
                for oy in 0..<g.oh {
                    let iy = oy * g.stride - g.pad + ky
                    let d = dst + oy * g.ow
                    if iy < 0 || iy >= g.h {
                        d.update(repeating: 0, count: g.ow)
                        continue
                    }
                    let src = xc + iy * g.w
                    if g.stride == 1 {
                        // Valid ox range where 0 ≤ ox - pad + kx < w.
                        let lo = max(0, g.pad - kx), hi = min(g.ow, g.w + g.pad - kx)
                        if lo > 0 { d.update(repeating: 0, count: min(lo, g.ow)) }
                        if hi > lo { copyFloats(d + lo, src + lo - g.pad + kx, hi - lo) }
                        if hi < g.ow { (d + max(hi, 0)).update(repeating: 0, count: g.ow - max(hi, 0)) }
                    } else {
                        for ox in 0..<g.ow {
                            let ix = ox * g.stride - g.pad + kx
                            d[ox] = ix >= 0 && ix < g.w ? src[ix] : 0
                        }
                    }
                }
                row += 1
            }
        }
    }
}

/// Adds col: [C·KH·KW, OH·OW] back into x: [C,H,W] (x is accumulated into, not overwritten).
public func col2im(_ g: ConvGeometry, _ col: UnsafePointer<Float>, ldc: Int, _ x: UnsafeMutablePointer<Float>) {
    var row = 0
    for c in 0..<g.c {
        let xc = x + c * g.h * g.w
        for ky in 0..<g.kh {
            for kx in 0..<g.kw {
                let src = col + row * ldc
                for oy in 0..<g.oh {
                    let iy = oy * g.stride - g.pad + ky
                    if iy < 0 || iy >= g.h { continue }
                    let dst = xc + iy * g.w
                    let s = src + oy * g.ow
                    if g.stride == 1 {
                        let lo = max(0, g.pad - kx), hi = min(g.ow, g.w + g.pad - kx)
                        if hi > lo { addInPlace(dst + lo - g.pad + kx, s + lo, hi - lo) }
                    } else {
                        // ix = ox·stride − pad + kx must lie in 0..<w: the ox range, so the loop has no branch.
                        let lo = max(0, (g.pad - kx + g.stride - 1) / g.stride)
                        let top = g.w - 1 + g.pad - kx
                        let hi = top < 0 ? 0 : min(g.ow, top / g.stride + 1)
                        if hi > lo {
                            let d = dst + lo * g.stride - g.pad + kx
                            for j in 0..<(hi - lo) { d[j * g.stride] += s[lo + j] }
                        }
                    }
                }
                row += 1
            }
        }
    }
}

/// [nb, C, S] → [C, nb·S] (channel-major, so one GEMM covers several images).
@inline(__always)
func gatherChannels(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, nb: Int, c: Int, s: Int) {
    for i in 0..<nb { for ch in 0..<c { copyFloats(dst + ch * nb * s + i * s, src + (i * c + ch) * s, s) } }
}

/// [C, nb·S] → [nb, C, S].
@inline(__always)
func scatterChannels(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, nb: Int, c: Int, s: Int) {
    for i in 0..<nb { for ch in 0..<c { copyFloats(dst + (i * c + ch) * s, src + ch * nb * s + i * s, s) } }
}

/// im2col for stride 1 without padding (most layers of small CNNs): every output row is a plain copy.
@inline(never)
func im2colValid(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, ldc: Int) {
    let c = g.c, h = g.h, w = g.w, kh = g.kh, kw = g.kw, oh = g.oh, ow = g.ow
    var dst = col
    for ch in 0..<c {
        let xc = x + ch * h * w
        for ky in 0..<kh {
            for kx in 0..<kw {
                var src = xc + ky * w + kx
                var d = dst
                for _ in 0..<oh {
                    var i = 0
                    while i + 8 <= ow {
                        store8(load8(src + i), d + i)
                        i += 8
                    }
                    while i < ow {
                        d[i] = src[i]
                        i += 1
                    }
                    src += w
                    d += ow
                }
                dst += ldc
            }
        }
    }
}

/// im2col for stride 1 with zero padding ("same" convolutions): per output row, zeros / one copy / zeros.
@inline(never)
func im2colPadded(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, ldc: Int) {
    let c = g.c, h = g.h, w = g.w, kh = g.kh, kw = g.kw, oh = g.oh, ow = g.ow, pad = g.pad
    var dst = col
    for ch in 0..<c {
        let xc = x + ch * h * w
        for ky in 0..<kh {
            for kx in 0..<kw {
                // Output columns whose input column lies inside the image.
                let lo = min(ow, max(0, pad - kx)), hi = max(lo, min(ow, w + pad - kx))
                var d = dst
                for oy in 0..<oh {
                    let iy = oy - pad + ky
                    if iy < 0 || iy >= h {
                        for i in 0..<ow { d[i] = 0 }
                    } else {
                        let src = xc + iy * w - pad + kx
                        for i in 0..<lo { d[i] = 0 }
                        var i = lo
                        while i + 8 <= hi {
                            store8(load8(src + i), d + i)
                            i += 8
                        }
                        while i < hi {
                            d[i] = src[i]
                            i += 1
                        }
                        for j in hi..<ow { d[j] = 0 }
                    }
                    d += ow
                }
                dst += ldc
            }
        }
    }
}

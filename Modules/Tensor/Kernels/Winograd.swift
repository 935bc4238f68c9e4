// Winograd F(2×2, 3×3) convolution (Lavin & Gray, 2015) for 3×3 stride-1 layers with several input
// channels. Each 2×2 output tile comes from a 4×4 input tile: V = Bᵀ·d·B per channel, then 16 independent
// GEMMs M_ξ = U_ξ·V_ξ over channels (U = G·g·Gᵀ, the transformed weights), then Y = Aᵀ·M·A. The GEMMs do
// 16·C·OC multiply-adds per tile instead of 36·C·OC, so the seed CNN's conv2 needs 2.4 instead of
// 4.5 MFLOP per image; the transforms are additions only, vectorised over 8 tiles of a tile row.
// Used for the forward pass (batch-256 inference 1.07× faster end to end, training steps 1–2 %), and
// with ReLU + 2×2 max-pool fused into the output transform (Ops/ConvReluPool.swift). The input
// gradient could run through the same kernel (dY padded by 2 − pad, weights rotated and channel-swapped),
// but measured slower there than GEMM + col2im: its 49-tile, K = 64 GEMMs gained less than the
// transforms cost.
import Foundation

public enum Winograd {
    /// Off with DLPIPE_NO_WINOGRAD=1 (to compare against im2col + GEMM).
    public static var enabled = ProcessInfo.processInfo.environment["DLPIPE_NO_WINOGRAD"] == nil

    /// Whether a convolution runs as Winograd F(2×2, 3×3): 3×3, stride 1, padding ≤ 2, and enough input
    /// channels that the 16 GEMMs outweigh the transforms. Single images too: they run on one
    /// core with cached weight transforms (ConvNet, WinogradWeightCache).
    static func applies(_ g: ConvGeometry, inChannels: Int, batch: Int) -> Bool {
        enabled && g.kh == 3 && g.kw == 3 && g.stride == 1 && g.pad <= 2 && inChannels >= 8 && batch >= 1
    }
}

/// The 16 transformed weight matrices U_ξ [outC × inC] of a 3×3 convolution, packed for GEMM.
struct WinogradWeights {
    let outC: Int, inC: Int
    let packed: [PackedA]

    /// Floats of storage `transform` needs for an oc × c layer.
    static func storageCount(oc: Int, c: Int) -> Int { 16 * oc * c + 16 * PackedA.storageCount(m: oc, k: c) }

    /// Transforms and packs `w` ([oc, c, 3, 3]). The result is valid inside `body` only. Without autograd
    /// (inference), the result is cached: the same layer then runs on image after image with the same
    /// weights, and the transform cost as much as a single image's GEMMs.
    static func with<R>(_ w: UnsafePointer<Float>, oc: Int, c: Int, _ body: (WinogradWeights) -> R) -> R {
        precondition(c >= 8, "Winograd weights need at least 8 input channels")
        if !Autograd.isEnabled {
            let entry = WinogradWeightCache.shared.entry(for: w, oc: oc, c: c)
            return withExtendedLifetime(entry) { body(entry.weights) }
        }
        return withScratch(storageCount(oc: oc, c: c)) { body(transform(w, oc: oc, c: c, into: $0)) }
    }

    /// Transforms and packs `w` into `storage` (storageCount(oc:c:) floats), which the result points into.
    static func transform(_ w: UnsafePointer<Float>, oc: Int, c: Int, into storage: UnsafeMutablePointer<Float>)
        -> WinogradWeights
    {
        let outC = oc, inC = c
        let each = PackedA.storageCount(m: outC, k: inC), plane = outC * inC
        // Output channels split over the cores (the other core would only spin meanwhile); eight input
        // channels per step, from a tap-major copy of the output channel's weights.
        let U = SendablePointer(storage), Wt = SendablePointer(UnsafeMutablePointer(mutating: w))
        Parallel.forRanges(outC, minChunk: 4) { range in
            withScratch(9 * inC) { taps in
                let u = U.p, w = UnsafePointer(Wt.p)
                for o in range {
                    for i in 0..<inC { for t in 0..<9 { taps[t * inC + i] = w[(o * inC + i) * 9 + t] } }
                    var i0 = 0
                    while i0 < inC {
                        let i = Swift.min(i0, inC - 8)  // the last block may overlap the one before
                        @inline(__always) func g(_ t: Int) -> F8 { load8(taps + t * inC + i) }
                        let half = F8(repeating: 0.5)
                        // t = G·g (4×3, rows), then U = t·Gᵀ (4×4).
                        @inline(__always) func row(_ r: Int, _ a: F8, _ b: F8, _ cc: F8) {
                            let at = u + o * inC + i
                            store8(a, at + (r * 4 + 0) * plane)
                            store8(half * (a + b + cc), at + (r * 4 + 1) * plane)
                            store8(half * (a - b + cc), at + (r * 4 + 2) * plane)
                            store8(cc, at + (r * 4 + 3) * plane)
                        }
                        row(0, g(0), g(1), g(2))
                        row(1, half * (g(0) + g(3) + g(6)), half * (g(1) + g(4) + g(7)), half * (g(2) + g(5) + g(8)))
                        row(2, half * (g(0) - g(3) + g(6)), half * (g(1) - g(4) + g(7)), half * (g(2) - g(5) + g(8)))
                        row(3, g(6), g(7), g(8))
                        i0 += 8
                    }
                }
            }
        }
        let store = storage + 16 * plane
        let S = SendablePointer(store)
        Parallel.run(16) { xi in
            _ = PackedA(transA: false, m: outC, k: inC, a: U.p + xi * plane, lda: inC, into: S.p + xi * each)
        }
        let mPad = PackedA.storageCount(m: outC, k: 1)
        let packed = (0..<16).map { PackedA(m: outC, k: inC, mPad: mPad, p: store + $0 * each) }
        return WinogradWeights(outC: outC, inC: inC, packed: packed)
    }
}

/// Transformed weights of the layers inference ran last. An entry is found by the weights' address and
/// checked against a copy of their values, so weights changed in place (a loaded checkpoint, a training
/// step in between) are transformed again; comparing costs a few µs, transforming ~20.
final class WinogradWeightCache: @unchecked Sendable {
    static let shared = WinogradWeightCache()
    /// At most this many layers, and this many floats over all of them (64 MB).
    static let capacity = 8, floatBudget = 16 << 20

    final class Entry {
        let source: UnsafePointer<Float>, count: Int, oc: Int, c: Int
        let copy: UnsafeMutablePointer<Float>, storage: UnsafeMutablePointer<Float>
        let weights: WinogradWeights
        var floats: Int { count + WinogradWeights.storageCount(oc: oc, c: c) }
        init(_ w: UnsafePointer<Float>, oc: Int, c: Int) {
            source = w
            count = oc * c * 9
            self.oc = oc
            self.c = c
            copy = BufferPool.allocateAligned(count)
            copy.update(from: w, count: count)
            storage = BufferPool.allocateAligned(WinogradWeights.storageCount(oc: oc, c: c))
            weights = WinogradWeights.transform(w, oc: oc, c: c, into: storage)
        }
        func matches(_ w: UnsafePointer<Float>, oc: Int, c: Int) -> Bool {
            source == w && self.oc == oc && self.c == c && memcmp(copy, w, count * 4) == 0
        }
        deinit {
            free(copy)
            free(storage)
        }
    }

    private let lock = NSLock()
    private var entries: [Entry] = []  // most recently used last

    func entry(for w: UnsafePointer<Float>, oc: Int, c: Int) -> Entry {
        lock.lock()
        if let i = entries.firstIndex(where: { $0.matches(w, oc: oc, c: c) }) {
            let e = entries.remove(at: i)
            entries.append(e)
            lock.unlock()
            return e
        }
        lock.unlock()
        let e = Entry(w, oc: oc, c: c)  // outside the lock: the transform runs on the worker pool
        lock.lock()
        entries.removeAll { $0.source == w }
        entries.append(e)
        while entries.count > WinogradWeightCache.capacity
            || (entries.count > 1 && entries.reduce(0, { $0 + $1.floats }) > WinogradWeightCache.floatBudget)
        {
            entries.removeFirst()
        }
        lock.unlock()
        return e
    }
}

/// Where winogradConv3x3 writes: the convolution itself, or its 2×2/2 max-pool after ReLU.
enum WinogradOutput {
    /// y: [n, outC, oh, ow].
    case plain(UnsafeMutablePointer<Float>)
    /// y: [n, outC, oh/2, ow/2] = maxPool2(ReLU(conv)); `argmax` (same shape, optional) gets each window's
    /// winner as an index into the oh×ow plane (Float bits), as maxPool2d records it.
    case reluMaxPooled(UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Float>?)
}

/// y = conv3x3(x) + bias (ReLU optional), stride 1, zero padding `pad` ≤ 2, by Winograd F(2×2, 3×3).
/// x: [n, inC, h, w] → y: [n, outC, h+2·pad−2, w+2·pad−2], or its ReLU + 2×2 max-pool: a 2×2 output tile
/// is exactly one pool window, so only the pooled tiles are computed (25 of the seed CNN's 36 for conv2:
/// the 11th output row and column fall outside every window) and the conv output never leaves registers.
func winogradConv3x3(
    _ x: UnsafePointer<Float>, n: Int, h: Int, w: Int, pad: Int, _ u: WinogradWeights,
    bias: UnsafePointer<Float>?, relu: Bool, _ output: WinogradOutput
) {
    let c = u.inC, oc = u.outC
    let oh = h + 2 * pad - 2, ow = w + 2 * pad - 2
    var tH = (oh + 1) / 2, tW = (ow + 1) / 2
    let ph = 2 * tH + 2, pw = Swift.max(2 * tW + 2, 18)
    let y: SendablePointer, arg: SendablePointer?, pooled: Bool
    switch output {
    case .plain(let p):
        y = SendablePointer(p)
        arg = nil
        pooled = false
    case .reluMaxPooled(let p, let a):
        y = SendablePointer(p)
        arg = a.map { SendablePointer($0) }
        pooled = true
        tH = oh / 2
        tW = ow / 2
    }
    let tiles = tH * tW
    let split = BatchSplit(n), gt = split.gemmThreads
    // Images per pass: their V and M matrices together fit the L2 budget.
    // Images per pass: their V and M matrices (16·tiles·(C+OC) floats each) stay in the 1 MB budget;
    // 4–8 seed-CNN digits per pass measured 8 % faster than 2 (the K = C GEMMs are short, so wider N pays).
    let sub = Swift.max(1, Swift.min(split.per, 4 * convColumnBudget / (16 * tiles * (c + oc))))
    let X = SendablePointer(UnsafeMutablePointer(mutating: x)), Y = y
    let B = bias.map { SendablePointer(UnsafeMutablePointer(mutating: $0)) }
    split.forEach { _, i0, nb in
        let sb = Swift.min(sub, nb), ld = sb * tiles + 8  // + 8: a tile row's 8 lanes may run past the end
        // The 16 ξ blocks are skewed by 16 floats: with strides a multiple of 4 KB, the output transform's
        // 16 loads all fell into one L1 set.
        let vStride = c * ld + 16, mStride = oc * ld + 16
        withScratch(16 * vStride + 16 * mStride + ph * pw) { v in
            let m = v + 16 * vStride, plane = m + 16 * mStride
            plane.update(repeating: 0, count: ph * pw)  // the border stays zero; the interior is rewritten
            var j = 0
            while j < nb {
                let cnt = Swift.min(sb, nb - j), cols = cnt * tiles
                for img in 0..<cnt {
                    for ch in 0..<c {
                        let src = X.p + ((i0 + j + img) * c + ch) * h * w
                        for r in 0..<h { copyFloats(plane + (r + pad) * pw + pad, src + r * w, w) }
                        winogradInputTile(plane, pw, tH, tW, v + ch * ld + img * tiles, vStride)
                    }
                }
                let M = SendablePointer(m), V = SendablePointer(v)
                let gemm = { (xi: Int) in
                    u.packed[xi].multiply(
                        transB: false, b: V.p + xi * vStride, ldb: ld, beta: 0,
                        c: M.p + xi * mStride, ldc: ld, cols: 0..<cols)
                }
                if gt > 1 { Parallel.run(16, gemm) } else { for xi in 0..<16 { gemm(xi) } }
                for img in 0..<cnt {
                    for o in 0..<oc {
                        let src = m + o * ld + img * tiles, b = B.map { $0.p[o] } ?? 0, plane = (i0 + j + img) * oc + o
                        if pooled {
                            winogradPooledOutputTile(
                                src, mStride, tH, tW, b, Y.p + plane * tiles,
                                arg.map { $0.p + plane * tiles }, ow)
                        } else {
                            winogradOutputTile(src, mStride, tH, tW, b, relu, Y.p + plane * oh * ow, oh, ow)
                        }
                    }
                }
                j += cnt
            }
        }
    }
}

/// V = Bᵀ·d·B for every 4×4 tile of one zero-padded plane (row stride pw); V_ξ of tile t goes to
/// v[ξ·ξStride + t]. Eight tiles of a tile row per step; the last step of a row shifts left to end
/// at the row's last tile, and a row shorter than 8 tiles writes garbage lanes that the next row (or the
/// slack at the end) absorbs.
@inline(__always)
func winogradInputTile(
    _ p: UnsafePointer<Float>, _ pw: Int, _ tH: Int, _ tW: Int,
    _ v: UnsafeMutablePointer<Float>, _ xiStride: Int
) {
    for ty in 0..<tH {
        var tx = 0
        while tx < tW {
            let t0 = tW >= 8 ? Swift.min(tx, tW - 8) : 0
            // Row r of d·B for the 8 tiles: [d0 − d2, d1 + d2, d2 − d1, d1 − d3] of that input row.
            @inline(__always) func row(_ r: Int) -> (F8, F8, F8, F8) {
                let base = p + (2 * ty + r) * pw + 2 * t0
                let lo = load16(base), hi = load16(base + 2)
                let d0 = lo.evenHalf, d1 = lo.oddHalf, d2 = hi.evenHalf, d3 = hi.oddHalf
                return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
            }
            let u0 = row(0), u1 = row(1), u2 = row(2), u3 = row(3)
            // Column j of Bᵀ·(d·B) from column j of the four rows.
            let out = v + ty * tW + t0
            @inline(__always) func column(_ j: Int, _ a: F8, _ b: F8, _ c: F8, _ d: F8) {
                store8(a - c, out + (0 * 4 + j) * xiStride)
                store8(b + c, out + (1 * 4 + j) * xiStride)
                store8(c - b, out + (2 * 4 + j) * xiStride)
                store8(b - d, out + (3 * 4 + j) * xiStride)
            }
            column(0, u0.0, u1.0, u2.0, u3.0)
            column(1, u0.1, u1.1, u2.1, u3.1)
            column(2, u0.2, u1.2, u2.2, u3.2)
            column(3, u0.3, u1.3, u2.3, u3.3)
            tx += 8
        }
    }
}

/// Y = Aᵀ·M·A (+ bias, ReLU) for every tile of one output plane; M_ξ of tile t is m[ξ·ξStride + t].
/// Each tile row's two output rows are stored 16 lanes wide, so a store may run past its row into the
/// following rows; rows go top to bottom (and blocks right to left), so every such spill is overwritten
/// by a later store. Stores that would leave the plane are exact: the next plane may be another core's.
@inline(__always)
func winogradOutputTile(
    _ m: UnsafePointer<Float>, _ xiStride: Int, _ tH: Int, _ tW: Int, _ bias: Float, _ relu: Bool,
    _ y: UnsafeMutablePointer<Float>, _ oh: Int, _ ow: Int
) {
    let b = F8(repeating: bias), zero = F8()
    let blocks = (tW + 7) / 8
    for ty in 0..<tH {
        for blk in stride(from: blocks - 1, through: 0, by: -1) {
            let t0 = tW >= 8 ? Swift.min(blk * 8, tW - 8) : 0
            let q = winogradOutputQuad(m + ty * tW + t0, xiStride)
            var y00 = q.0 + b, y01 = q.1 + b, y10 = q.2 + b, y11 = q.3 + b
            if relu {
                y00 = pointwiseMax8(y00, zero)
                y01 = pointwiseMax8(y01, zero)
                y10 = pointwiseMax8(y10, zero)
                y11 = pointwiseMax8(y11, zero)
            }
            let valid = Swift.min(16, ow - 2 * t0)
            var row = SIMD16<Float>()
            row.evenHalf = y00
            row.oddHalf = y01
            let at0 = 2 * ty * ow + 2 * t0
            storeRow(row, y + at0, at0 + 16 <= oh * ow ? 16 : valid)
            if 2 * ty + 1 < oh {
                row.evenHalf = y10
                row.oddHalf = y11
                storeRow(row, y + at0 + ow, at0 + ow + 16 <= oh * ow ? 16 : valid)
            }
        }
    }
}

/// maxPool2(ReLU(Aᵀ·M·A + bias)) for every tile of one output plane: each 2×2 tile is one pool window, so
/// a tile's four outputs reduce to one pooled value (and, if `arg` is given, the index of the window's
/// first maximum in the ow-wide conv plane, as Float bits). Rows of tW pooled values; a row shorter than
/// 8 spills garbage lanes into the next row, which overwrites them; the plane's last store is exact.
@inline(__always)
func winogradPooledOutputTile(
    _ m: UnsafePointer<Float>, _ xiStride: Int, _ tH: Int, _ tW: Int, _ bias: Float,
    _ y: UnsafeMutablePointer<Float>, _ arg: UnsafeMutablePointer<Float>?, _ ow: Int
) {
    let b = F8(repeating: bias), zero = F8()
    let lane2 = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
    let one = SIMD8<Int32>(repeating: 1), down = SIMD8<Int32>(repeating: Int32(ow))
    let blocks = (tW + 7) / 8, count = tH * tW
    for ty in 0..<tH {
        for blk in 0..<blocks {
            let t0 = tW >= 8 ? Swift.min(blk * 8, tW - 8) : 0
            let (y00, y01, y10, y11) = winogradOutputQuad(m + ty * tW + t0, xiStride)
            let at0 = ty * tW + t0, exact = at0 + 8 > count
            var best: F8
            if let arg {
                // The window's first maximum in row-major order (strict >), as maxPool2d picks it.
                let i00 = lane2 &+ SIMD8<Int32>(repeating: Int32(2 * ty * ow + 2 * t0))
                let c01 = y01 .> y00
                best = y00.replacing(with: y01, where: c01)
                var idx = i00.replacing(with: i00 &+ one, where: c01)
                let c10 = y10 .> best
                best = best.replacing(with: y10, where: c10)
                idx = idx.replacing(with: i00 &+ down, where: c10)
                let c11 = y11 .> best
                best = best.replacing(with: y11, where: c11)
                idx = idx.replacing(with: i00 &+ down &+ one, where: c11)
                let bits = unsafeBitCast(idx, to: F8.self)
                if exact { for l in 0..<(count - at0) { arg[at0 + l] = bits[l] } } else { store8(bits, arg + at0) }
            } else {
                best = pointwiseMax8(pointwiseMax8(y00, y01), pointwiseMax8(y10, y11))
            }
            let v = pointwiseMax8(best + b, zero)
            if exact { for l in 0..<(count - at0) { y[at0 + l] = v[l] } } else { store8(v, y + at0) }
        }
    }
}

/// Y = Aᵀ·M·A for 8 tiles at once (M_ξ of tile t at m[ξ·ξStride + t]): their outputs (0,0), (0,1), (1,0), (1,1).
@inline(__always)
func winogradOutputQuad(_ m: UnsafePointer<Float>, _ xiStride: Int) -> (F8, F8, F8, F8) {
    @inline(__always) func at(_ i: Int, _ j: Int) -> F8 { load8(m + (i * 4 + j) * xiStride) }
    // s = Aᵀ·M (2×4), then Y = s·A (2×2).
    let s00 = at(0, 0) + at(1, 0) + at(2, 0), s01 = at(0, 1) + at(1, 1) + at(2, 1)
    let s02 = at(0, 2) + at(1, 2) + at(2, 2), s03 = at(0, 3) + at(1, 3) + at(2, 3)
    let s10 = at(1, 0) - at(2, 0) - at(3, 0), s11 = at(1, 1) - at(2, 1) - at(3, 1)
    let s12 = at(1, 2) - at(2, 2) - at(3, 2), s13 = at(1, 3) - at(2, 3) - at(3, 3)
    return (s00 + s01 + s02, s01 - s02 - s03, s10 + s11 + s12, s11 - s12 - s13)
}

/// Stores the first `count` (≤ 16) lanes of v.
@inline(__always)
func storeRow(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    if count == 16 {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
        return
    }
    var i = 0
    if count >= 8 {
        store8(v.lowHalf, p)
        i = 8
    }
    while i < count {
        p[i] = v[i]
        i += 1
    }
}

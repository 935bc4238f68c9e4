// SGEMM: C[M,N] = alpha · op(A)[M,K] · op(B)[K,N] + beta · C, row-major, op = identity or transpose.
// BLIS loop order (jc → pc → ic → jr → ir): B is packed into 16-column panels (kc×16, L1-sized per panel),
// A into 6-row panels (mc×kc block, L2-sized), and a 6×16 register-blocked micro-kernel does the FMAs.
// Packing absorbs the transposes, so all four A/B layouts run the same fast path. Threads split C into
// column ranges (or row ranges when C is tall and narrow); each thread packs its own panels.

public enum GemmBlocking {
    /// CPUs with full-width AVX-512 get the 12×32 C micro-kernel (twice the FLOPs per instruction); others
    /// the 6×16 Swift one.
    public static let useWide: Bool = {
        if ProcessInfo.processInfo.environment["DLPIPE_NO_AVX512"] != nil { return false }
        return dlp_cpu_prefers_avx512() != 0
    }()
    public static let mr = useWide ? 12 : 6, nr = useWide ? 32 : 16
    public static let mc = 144, nc = 4096
    /// Depth of one packed block. The AVX-512 kernel measured 2–4 % faster with 512 (fewer C-tile
    /// round trips; a 288-deep conv GEMM becomes one block); the Swift kernel was neutral, so it keeps 256.
    public static let kc = useWide ? 512 : 256
    /// Below this many FLOPs, splitting a GEMM over threads costs more than it saves.
    public static let minThreadedFlops = 1_500_000
    /// Name of the micro-kernel in use, for benchmark reports.
    public static var kernelName: String { useWide ? "avx512 12x32 (C)" : "simd8 6x16 (Swift)" }
}

/// Single-precision matrix multiply (row-major).
///
///     sgemm(transA: false, transB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, beta: 0, c: c, ldc: n)
public func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = Parallel.threads
) {
    if m == 0 || n == 0 { return }
    let A = SendablePointer(UnsafeMutablePointer(mutating: a)), B = SendablePointer(UnsafeMutablePointer(mutating: b))
    let C = SendablePointer(c)
    if m <= 2 && k >= 16 {
        // A row or two (batch-1 inference through Dense layers): packing B would cost more than the
        // product, so stream B once with SIMD dot products / row updates instead.
        gemmFewRows(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
            beta: beta, c: c, ldc: ldc)
        return
    }
    let flops = 2 * m * n * k
    let t = flops >= GemmBlocking.minThreadedFlops ? max(1, threads) : 1
    if t == 1 {
        gemmBlock(transA, transB, 0..<m, 0..<n, k, alpha, A.p, lda, B.p, ldb, beta, C.p, ldc)
    } else {
        gemmThreaded(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, t)
    }
}

import Dispatch
import Foundation
import CKernels

/// op(A) packed once, whole, into MR-row panels for every kc block (block (pc, rows) at
/// p + pc·mPad + row·kc), so several GEMMs with the same A — threads' column ranges, or a convolution's
/// batch sub-chunks — share one packing. Lives in a pooled scratch buffer for the duration of `body`.
public struct PackedA: @unchecked Sendable {
    public let m: Int, k: Int, mPad: Int
    let p: UnsafeMutablePointer<Float>

    /// Packs alpha·op(A) [m×k], splitting the row panels over `threads`, and runs body with the result.
    ///
    ///     PackedA.with(transA: false, m: m, k: k, a: w, lda: k) { pa in pa.multiply(...) }
    public static func with<R>(
        transA: Bool, m: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        threads: Int = 1, _ body: (PackedA) throws -> R
    ) rethrows -> R {
        try withScratch(storageCount(m: m, k: k)) { ap in
            try body(PackedA(transA: transA, m: m, k: k, alpha: alpha, a: a, lda: lda, into: ap, threads: threads))
        }
    }

    /// Floats of packed storage an m×k matrix needs.
    public static func storageCount(m: Int, k: Int) -> Int {
        (m + GemmBlocking.mr - 1) / GemmBlocking.mr * GemmBlocking.mr * k
    }

    /// Packs alpha·op(A) into `ap` (storageCount(m:k:) floats), which must outlive the result.
    public init(
        transA: Bool, m: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        into ap: UnsafeMutablePointer<Float>, threads: Int = 1
    ) {
        typealias G = GemmBlocking
        let mPad = (m + G.mr - 1) / G.mr * G.mr
        self.init(m: m, k: k, mPad: mPad, p: ap)
        do {
            let AP = SendablePointer(ap), A = SendablePointer(UnsafeMutablePointer(mutating: a))
            let panels = mPad / G.mr
            let perRows = (panels + threads - 1) / threads * G.mr
            Parallel.run(threads <= 1 ? 1 : (mPad + perRows - 1) / perRows) { i in
                let r0 = threads <= 1 ? 0 : i * perRows, r1 = threads <= 1 ? m : min(m, r0 + perRows)
                if r0 >= r1 { return }
                var pc = 0
                while pc < k {
                    let kc = min(G.kc, k - pc)
                    packA(transA, A.p, lda, r0, r1 - r0, pc, kc, alpha, AP.p + pc * mPad + r0 * kc)
                    pc += G.kc
                }
            }
        }
    }

    init(m: Int, k: Int, mPad: Int, p: UnsafeMutablePointer<Float>) {
        self.m = m
        self.k = k
        self.mPad = mPad
        self.p = p
    }

    /// C[:, cols] = A·op(B)[:, cols] + beta·C[:, cols] on the calling thread (B is [k×n], or [n×k] when transB).
    public func multiply(
        transB: Bool, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int, cols: Range<Int>
    ) {
        typealias G = GemmBlocking
        let c0 = cols.lowerBound, c1 = cols.upperBound
        if c0 >= c1 || m == 0 { return }
        let B = UnsafeMutablePointer(mutating: b)
        if k == 0 {
            if beta != 1 {
                for r in 0..<m { for j in c0..<c1 { c[r * ldc + j] = beta == 0 ? 0 : beta * c[r * ldc + j] } }
            }
            return
        }
        if beta != 0 && beta != 1 {
            for r in 0..<m {
                let row = c + r * ldc
                for j in c0..<c1 { row[j] *= beta }
            }
        }
        withScratch(min(G.kc, k) * min(G.nc, (c1 - c0 + G.nr - 1) / G.nr * G.nr)) { bp in
            var jc = c0
            while jc < c1 {
                let nc = min(G.nc, c1 - jc)
                var pc = 0
                while pc < k {
                    let kc = min(G.kc, k - pc)
                    packB(transB, B, ldb, pc, kc, jc, nc, bp)
                    var ic = 0
                    while ic < m {
                        let mc = min(G.mc, m - ic)
                        macroKernel(
                            mc, nc, kc, p + pc * mPad + ic * kc, bp, c + ic * ldc + jc, ldc, pc == 0 && beta == 0)
                        ic += G.mc
                    }
                    pc += G.kc
                }
                jc += G.nc
            }
        }
    }

    /// The same product with C's columns split into NR-aligned ranges over `threads`.
    public func multiply(
        transB: Bool, n: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int
    ) {
        typealias G = GemmBlocking
        if threads <= 1 || 2 * m * n * k < G.minThreadedFlops {
            multiply(transB: transB, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, cols: 0..<n)
            return
        }
        var per = (n + threads - 1) / threads
        per = (per + G.nr - 1) / G.nr * G.nr
        let B = SendablePointer(UnsafeMutablePointer(mutating: b)), C = SendablePointer(c)
        Parallel.run((n + per - 1) / per) { i in
            multiply(
                transB: transB, b: B.p, ldb: ldb, beta: beta, c: C.p, ldc: ldc, cols: i * per..<min(n, i * per + per))
        }
    }
}

/// Multi-threaded GEMM in two parallel phases and no barriers: (1) all of op(A) is packed once, row
/// panels split across threads; (2) threads take disjoint NR-aligned column ranges of C, each packing
/// only its own part of B and reusing the shared packed A. Nothing is packed twice.
func gemmThreaded(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ A: SendablePointer, _ lda: Int, _ B: SendablePointer, _ ldb: Int, _ beta: Float,
    _ C: SendablePointer, _ ldc: Int, _ threads: Int
) {
    if k == 0 {
        gemmBlock(transA, transB, 0..<m, 0..<n, k, alpha, A.p, lda, B.p, ldb, beta, C.p, ldc)
        return
    }
    PackedA.with(transA: transA, m: m, k: k, alpha: alpha, a: A.p, lda: lda, threads: threads) { pa in
        pa.multiply(transB: transB, n: n, b: B.p, ldb: ldb, beta: beta, c: C.p, ldc: ldc, threads: threads)
    }
}

/// C[mc×nc] (+)= packed A block · packed B block, tile by tile (B micro-panel stays in L1 across ir).
@inline(__always)
func macroKernel(
    _ mc: Int, _ nc: Int, _ kc: Int, _ ap: UnsafeMutablePointer<Float>, _ bp: UnsafeMutablePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ overwrite: Bool
) {
    typealias G = GemmBlocking
    var jr = 0
    while jr < nc {
        let nr = min(G.nr, nc - jr)
        let bpanel = bp + jr * kc
        var ir = 0
        while ir < mc {
            let mr = min(G.mr, mc - ir)
            let cTile = c + ir * ldc + jr
            if G.useWide {
                dlp_sgemm_kernel_12x32(kc, ap + ir * kc, bpanel, cTile, ldc, mr, nr, overwrite ? 1 : 0)
            } else {
                microKernel6x16(kc, ap + ir * kc, bpanel, cTile, ldc, mr, nr, overwrite)
            }
            ir += G.mr
        }
        jr += G.nr
    }
}

/// One thread's share: rows `rows`, columns `cols` of C, packing its own panels.
@inline(never)
func gemmBlock(
    _ transA: Bool, _ transB: Bool, _ rows: Range<Int>, _ cols: Range<Int>, _ k: Int, _ alpha: Float,
    _ a: UnsafeMutablePointer<Float>, _ lda: Int, _ b: UnsafeMutablePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
    typealias G = GemmBlocking
    if beta != 0 && beta != 1 {
        for i in rows {
            let row = c + i * ldc
            for j in cols { row[j] *= beta }
        }
    }
    if k == 0 {
        if beta == 0 { for i in rows { (c + i * ldc + cols.lowerBound).update(repeating: 0, count: cols.count) } }
        return
    }
    let ncMax = min(G.nc, (cols.count + G.nr - 1) / G.nr * G.nr)
    let kcMax = min(G.kc, k)
    let mcMax = min(G.mc, (rows.count + G.mr - 1) / G.mr * G.mr)
    withScratch(kcMax * ncMax) { bp in
        withScratch(kcMax * mcMax) { ap in
            var jc = cols.lowerBound
            while jc < cols.upperBound {
                let nc = min(G.nc, cols.upperBound - jc)
                var pc = 0
                while pc < k {
                    let kc = min(G.kc, k - pc)
                    packB(transB, b, ldb, pc, kc, jc, nc, bp)
                    var ic = rows.lowerBound
                    while ic < rows.upperBound {
                        let mc = min(G.mc, rows.upperBound - ic)
                        packA(transA, a, lda, ic, mc, pc, kc, alpha, ap)
                        macroKernel(mc, nc, kc, ap, bp, c + ic * ldc + jc, ldc, pc == 0 && beta == 0)
                        ic += G.mc
                    }
                    pc += G.kc
                }
                jc += G.nc
            }
        }
    }
}

/// Packs op(B)[pc..<pc+kc, jc..<jc+nc] into 16-wide panels: panel j holds kc rows of 16 floats (zero-padded).
@inline(__always)
func packB(
    _ trans: Bool, _ b: UnsafeMutablePointer<Float>, _ ldb: Int, _ pc: Int, _ kc: Int, _ jc: Int, _ nc: Int,
    _ out: UnsafeMutablePointer<Float>
) {
    let nr = GemmBlocking.nr
    var j = 0
    while j < nc {
        let w = min(nr, nc - j)
        let panel = out + j * kc
        if !trans {
            if w == nr {
                for p in 0..<kc {
                    let src = UnsafeRawPointer(b + (pc + p) * ldb + jc + j)
                    let dst = UnsafeMutableRawPointer(panel + p * nr)
                    var off = 0
                    while off < nr * 4 {
                        dst.storeBytes(
                            of: src.loadUnaligned(fromByteOffset: off, as: SIMD16<Float>.self),
                            toByteOffset: off, as: SIMD16<Float>.self)
                        off += 64
                    }
                }
            } else {
                for p in 0..<kc {
                    let src = b + (pc + p) * ldb + jc + j
                    let dst = panel + p * nr
                    for q in 0..<w { dst[q] = src[q] }
                    for q in w..<nr { dst[q] = 0 }
                }
            }
        } else {
            // B is stored [N,K]: column j of op(B) is row j of B, contiguous in p. Read 8 p at a time
            // per column so the scattered writes stay inside an L1-resident 8-row strip.
            var p = 0
            if w == nr && nr % 8 == 0 {
                // Full panel: 8×8 blocks transposed in registers (scalar stores were the cost).
                while p + 8 <= kc {
                    var q0 = 0
                    while q0 < nr {
                        transposeBlock8x8(b + (jc + j + q0) * ldb + pc + p, ldb, panel + p * nr + q0, nr)
                        q0 += 8
                    }
                    p += 8
                }
            }
            while p + 8 <= kc {
                for q in 0..<w {
                    let v = load8(b + (jc + j + q) * ldb + pc + p)
                    for t in 0..<8 { panel[(p + t) * nr + q] = v[t] }
                }
                p += 8
            }
            while p < kc {
                for q in 0..<w { panel[p * nr + q] = b[(jc + j + q) * ldb + pc + p] }
                p += 1
            }
            if w < nr { for p in 0..<kc { for q in w..<nr { panel[p * nr + q] = 0 } } }
        }
        j += nr
    }
}

/// Packs alpha · op(A)[ic..<ic+mc, pc..<pc+kc] into 6-row panels: panel i holds kc columns of 6 floats.
@inline(__always)
func packA(
    _ trans: Bool, _ a: UnsafeMutablePointer<Float>, _ lda: Int, _ ic: Int, _ mc: Int, _ pc: Int, _ kc: Int,
    _ alpha: Float, _ out: UnsafeMutablePointer<Float>
) {
    let mr = GemmBlocking.mr
    var i = 0
    while i < mc {
        let h = min(mr, mc - i)
        let panel = out + i * kc
        if !trans {
            if h == mr && alpha == 1 {
                // Full panel: walk k in the outer loop so writes are sequential; 8 k-steps per round
                // keep each row's read a full SIMD8 load.
                var p = 0
                let src = a + (ic + i) * lda + pc
                if mr == 6 {
                    // 6 rows padded to 8, transposed in registers; each column is stored as 8 floats at
                    // stride 6, the last 2 overwritten by the next column's store (hence p + 16 ≤ kc: the
                    // last block's spill must land on a later block, not past the buffer).
                    while p + 16 <= kc {
                        let s = src + p, z = F8()
                        let t = transpose8x8(
                            load8(s), load8(s + lda), load8(s + 2 * lda), load8(s + 3 * lda),
                            load8(s + 4 * lda), load8(s + 5 * lda), z, z)
                        let dst = panel + p * 6
                        store8(t.0, dst)
                        store8(t.1, dst + 6)
                        store8(t.2, dst + 12)
                        store8(t.3, dst + 18)
                        store8(t.4, dst + 24)
                        store8(t.5, dst + 30)
                        store8(t.6, dst + 36)
                        store8(t.7, dst + 42)
                        p += 8
                    }
                }
                while p + 8 <= kc {
                    for r in 0..<mr {
                        let v = load8(src + r * lda + p)
                        for q in 0..<8 { panel[(p + q) * mr + r] = v[q] }
                    }
                    p += 8
                }
                while p < kc {
                    for r in 0..<mr { panel[p * mr + r] = src[r * lda + p] }
                    p += 1
                }
            } else {
                for r in 0..<h {
                    let src = a + (ic + i + r) * lda + pc
                    for p in 0..<kc { panel[p * mr + r] = alpha * src[p] }
                }
            }
        } else {
            // A is stored [K,M]: row p of A holds column p of op(A), contiguous in i.
            if alpha == 1 {
                for p in 0..<kc { copyFloats(panel + p * mr, a + (pc + p) * lda + ic + i, h) }
            } else {
                for p in 0..<kc {
                    let src = a + (pc + p) * lda + ic + i
                    for r in 0..<h { panel[p * mr + r] = alpha * src[r] }
                }
            }
        }
        if h < mr { for p in 0..<kc { for r in h..<mr { panel[p * mr + r] = 0 } } }
        i += mr
    }
}

/// C[0..<mr, 0..<nr] += Apanel(kc×6) · Bpanel(kc×16). The `for _ in 0..<kc` form with addingProduct
/// keeps all 12 accumulators in ymm registers (a `while` form spilled and ran at half speed).
@inline(__always)
func microKernel6x16(
    _ kc: Int, _ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ mr: Int, _ nr: Int, _ overwrite: Bool
) {
    typealias V = SIMD8<Float>
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var ap = UnsafeRawPointer(a), bp = UnsafeRawPointer(b)
    for _ in 0..<kc {
        let b0 = bp.load(as: V.self), b1 = bp.load(fromByteOffset: 32, as: V.self)
        var x = V(repeating: ap.load(as: Float.self))
        c00 = c00.addingProduct(x, b0)
        c01 = c01.addingProduct(x, b1)
        x = V(repeating: ap.load(fromByteOffset: 4, as: Float.self))
        c10 = c10.addingProduct(x, b0)
        c11 = c11.addingProduct(x, b1)
        x = V(repeating: ap.load(fromByteOffset: 8, as: Float.self))
        c20 = c20.addingProduct(x, b0)
        c21 = c21.addingProduct(x, b1)
        x = V(repeating: ap.load(fromByteOffset: 12, as: Float.self))
        c30 = c30.addingProduct(x, b0)
        c31 = c31.addingProduct(x, b1)
        x = V(repeating: ap.load(fromByteOffset: 16, as: Float.self))
        c40 = c40.addingProduct(x, b0)
        c41 = c41.addingProduct(x, b1)
        x = V(repeating: ap.load(fromByteOffset: 20, as: Float.self))
        c50 = c50.addingProduct(x, b0)
        c51 = c51.addingProduct(x, b1)
        ap += 24
        bp += 64
    }
    if mr == 6 && nr == 16 {
        @inline(__always) func add(_ row: Int, _ v0: V, _ v1: V) {
            let p = UnsafeMutableRawPointer(c + row * ldc)
            if overwrite {
                p.storeBytes(of: v0, as: V.self)
                p.storeBytes(of: v1, toByteOffset: 32, as: V.self)
            } else {
                p.storeBytes(of: p.loadUnaligned(as: V.self) + v0, as: V.self)
                p.storeBytes(of: p.loadUnaligned(fromByteOffset: 32, as: V.self) + v1, toByteOffset: 32, as: V.self)
            }
        }
        add(0, c00, c01)
        add(1, c10, c11)
        add(2, c20, c21)
        add(3, c30, c31)
        add(4, c40, c41)
        add(5, c50, c51)
    } else {
        // Edge tile: spill the accumulators to a small tile and add only the valid part.
        var tile = (c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51)
        withUnsafeBytes(of: &tile) { raw in
            let t = raw.bindMemory(to: Float.self)
            if overwrite {
                for i in 0..<mr { for j in 0..<nr { c[i * ldc + j] = t[i * 16 + j] } }
            } else {
                for i in 0..<mr { for j in 0..<nr { c[i * ldc + j] += t[i * 16 + j] } }
            }
        }
    }
}

/// C = alpha·op(A)·op(B) + beta·C for m ≤ 2 rows, without packing: with B stored [N,K] every output is
/// a contiguous dot product; with B stored [K,N] each row of B is added, scaled, into the output row.
func gemmFewRows(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    withScratch(k) { row in
        for i in 0..<m {
            // Row i of op(A), made contiguous.
            if transA { for p in 0..<k { row[p] = a[p * lda + i] } } else { row.update(from: a + i * lda, count: k) }
            let out = c + i * ldc
            if transB {
                for j in 0..<n {
                    let v = alpha * dotFloats(row, b + j * ldb, k)
                    out[j] = beta == 0 ? v : v + beta * out[j]
                }
            } else {
                if beta == 0 {
                    out.update(repeating: 0, count: n)
                } else if beta != 1 {
                    for j in 0..<n { out[j] *= beta }
                }
                for p in 0..<k {
                    let s = alpha * row[p]
                    if s != 0 { axpyFloats(out, s, b + p * ldb, n) }
                }
            }
        }
    }
}

/// Columns of an 8×8 block given as 8 rows: three rounds of even/odd deinterleaving (each rotates the
/// 6-bit element index right by one bit, so three of them turn row·8 + col into col·8 + row).
@inline(__always)
func transpose8x8(_ r0: F8, _ r1: F8, _ r2: F8, _ r3: F8, _ r4: F8, _ r5: F8, _ r6: F8, _ r7: F8)
    -> (F8, F8, F8, F8, F8, F8, F8, F8)
{
    typealias F16 = SIMD16<Float>
    @inline(__always) func round(_ a: (F8, F8, F8, F8, F8, F8, F8, F8)) -> (F8, F8, F8, F8, F8, F8, F8, F8) {
        let p0 = F16(lowHalf: a.0, highHalf: a.1), p1 = F16(lowHalf: a.2, highHalf: a.3)
        let p2 = F16(lowHalf: a.4, highHalf: a.5), p3 = F16(lowHalf: a.6, highHalf: a.7)
        return (p0.evenHalf, p1.evenHalf, p2.evenHalf, p3.evenHalf, p0.oddHalf, p1.oddHalf, p2.oddHalf, p3.oddHalf)
    }
    return round(round(round((r0, r1, r2, r3, r4, r5, r6, r7))))
}

/// dst[j·dstStride + i] = src[i·srcStride + j] for an 8×8 block: 8 row loads, the in-register transpose,
/// 8 row stores.
@inline(__always)
func transposeBlock8x8(
    _ src: UnsafePointer<Float>, _ srcStride: Int, _ dst: UnsafeMutablePointer<Float>, _ dstStride: Int
) {
    let s = src, n = srcStride
    let t = transpose8x8(
        load8(s), load8(s + n), load8(s + 2 * n), load8(s + 3 * n),
        load8(s + 4 * n), load8(s + 5 * n), load8(s + 6 * n), load8(s + 7 * n))
    let d = dst, m = dstStride
    store8(t.0, d)
    store8(t.1, d + m)
    store8(t.2, d + 2 * m)
    store8(t.3, d + 3 * m)
    store8(t.4, d + 4 * m)
    store8(t.5, d + 5 * m)
    store8(t.6, d + 6 * m)
    store8(t.7, d + 7 * m)
}

/// Fraction of the micro-kernel's tile work that is useful for an M×N product (edge tiles are padded).
public func gemmTileEfficiency(m: Int, n: Int) -> Double {
    let mr = GemmBlocking.mr, nr = GemmBlocking.nr
    return Double(m * n) / Double(((m + mr - 1) / mr * mr) * ((n + nr - 1) / nr * nr))
}

/// Plain triple loop used as the reference in tests.
public func sgemmReference(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    for i in 0..<m {
        for j in 0..<n {
            var s: Double = 0
            for p in 0..<k {
                let x = transA ? a[p * lda + i] : a[i * lda + p]
                let y = transB ? b[j * ldb + p] : b[p * ldb + j]
                s += Double(x) * Double(y)
            }
            let old = beta == 0 ? 0 : beta * c[i * ldc + j]
            c[i * ldc + j] = alpha * Float(s) + old
        }
    }
}

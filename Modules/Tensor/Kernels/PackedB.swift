// op(B) packed once, whole, for many products with the same right operand: a recurrent layer multiplies
// its state by W_hh at every step, and packing W_hh anew each time cost as much as the product itself
// (a 32 × 256 × 64 step is ~10 µs of FMAs; packing 16 K floats with a transpose is several µs more).

/// Packed op(B) [k×n]: block (pc, columns) at p + pc·nPad + column·kc, in NR-wide panels as packB lays
/// them out. Lives in a pooled scratch buffer for the duration of `with`'s body.
public struct PackedB: @unchecked Sendable {
    public let n: Int, k: Int, nPad: Int
    let p: UnsafeMutablePointer<Float>

    /// Packs op(B) (B is [k×n], or [n×k] when transB) and runs body with the result.
    ///
    ///     PackedB.with(transB: true, n: 4 * h, k: h, b: wHH.data, ldb: h) { pb in pb.multiply(...) }
    public static func with<R>(
        transB: Bool, n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int,
        _ body: (PackedB) throws -> R
    ) rethrows -> R {
        typealias G = GemmBlocking
        let nPad = (n + G.nr - 1) / G.nr * G.nr
        return try withScratch(max(1, nPad * k)) { bp in
            let B = UnsafeMutablePointer(mutating: b)
            var pc = 0
            while pc < k {
                let kc = min(G.kc, k - pc)
                var jc = 0
                while jc < n {
                    let nc = min(G.nc, n - jc)
                    packB(transB, B, ldb, pc, kc, jc, nc, bp + pc * nPad + jc * kc)
                    jc += G.nc
                }
                pc += G.kc
            }
            return try body(PackedB(n: n, k: k, nPad: nPad, p: bp))
        }
    }

    /// Floats of scratch `multiply` needs for up to `m` rows.
    public func scratchCount(m: Int) -> Int {
        typealias G = GemmBlocking
        return max(1, min(G.kc, k) * min(G.mc, (m + G.mr - 1) / G.mr * G.mr))
    }

    /// C[m×n] = op(A)·B + beta·C (beta 0 or 1) on the calling thread; A is [m×k] (or [k×m] when transA).
    /// `scratch` (scratchCount(m:) floats) holds the packed rows of A; a loop over steps passes one
    /// buffer for all of them, since taking one from the shared pool each step made the cores queue on its lock.
    public func multiply(
        transA: Bool = false, m: Int, a: UnsafePointer<Float>, lda: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, scratch: UnsafeMutablePointer<Float>? = nil
    ) {
        precondition(beta == 0 || beta == 1, "PackedB.multiply: beta must be 0 or 1")
        if m == 0 { return }
        if k == 0 {
            if beta == 0 { for r in 0..<m { (c + r * ldc).update(repeating: 0, count: n) } }
            return
        }
        if m <= 2 {
            for r in 0..<m {
                multiplyRow(transA ? a + r : a + r * lda, stride: transA ? lda : 1, beta: beta, c + r * ldc)
            }
            return
        }
        let A = UnsafeMutablePointer(mutating: a)
        if let scratch { return multiplyPacked(transA, m, A, lda, beta, c, ldc, scratch) }
        withScratch(scratchCount(m: m)) { multiplyPacked(transA, m, A, lda, beta, c, ldc, $0) }
    }

    func multiplyPacked(
        _ transA: Bool, _ m: Int, _ A: UnsafeMutablePointer<Float>, _ lda: Int, _ beta: Float,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ ap: UnsafeMutablePointer<Float>
    ) {
        typealias G = GemmBlocking
        var pc = 0
        while pc < k {
            let kc = min(G.kc, k - pc)
            var ic = 0
            while ic < m {
                let mc = min(G.mc, m - ic)
                packA(transA, A, lda, ic, mc, pc, kc, 1, ap)
                var jc = 0
                while jc < n {
                    let nc = min(G.nc, n - jc)
                    macroKernel(mc, nc, kc, ap, p + pc * nPad + jc * kc, c + ic * ldc + jc, ldc, pc == 0 && beta == 0)
                    jc += G.nc
                }
                ic += G.mc
            }
            pc += G.kc
        }
    }

    /// One row: c (+)= a·B, each panel's NR columns accumulated in registers over all of k — the packed
    /// panels are exactly the row-update order a single row needs (batch-1 inference: a dot product per
    /// column would end each in a horizontal sum).
    func multiplyRow(_ a: UnsafePointer<Float>, stride: Int, beta: Float, _ c: UnsafeMutablePointer<Float>) {
        typealias G = GemmBlocking
        let nr = G.nr, wide = nr == 32
        precondition(nr == 16 || nr == 32, "PackedB: panels of 16 or 32 columns")
        var j0 = 0
        while j0 < n {
            var lo = SIMD16<Float>(), hi = SIMD16<Float>()
            var pc = 0
            while pc < k {
                let kc = min(G.kc, k - pc)
                let panel = UnsafeRawPointer(p + pc * nPad + j0 * kc)
                for q in 0..<kc {
                    let av = SIMD16<Float>(repeating: a[(pc + q) * stride])
                    lo = lo.addingProduct(av, panel.loadUnaligned(fromByteOffset: q * nr * 4, as: SIMD16<Float>.self))
                    if wide {
                        hi = hi.addingProduct(
                            av, panel.loadUnaligned(fromByteOffset: (q * nr + 16) * 4, as: SIMD16<Float>.self))
                    }
                }
                pc += G.kc
            }
            let w = min(nr, n - j0)
            for x in 0..<w {
                let v = x < 16 ? lo[x] : hi[x - 16]
                c[j0 + x] = beta == 0 ? v : c[j0 + x] + v
            }
            j0 += nr
        }
    }
}

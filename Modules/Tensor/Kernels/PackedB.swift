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
    public static func with<R>(transB: Bool, n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int,
                               _ body: (PackedB) throws -> R) rethrows -> R {
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

    /// C[m×n] = op(A)·B + beta·C (beta 0 or 1) on the calling thread; A is [m×k] (or [k×m] when transA).
    /// One or two rows go through the unpacked path, which streams B once without padding to a tile.
    public func multiply(transA: Bool = false, m: Int, a: UnsafePointer<Float>, lda: Int, original b: UnsafePointer<Float>,
                         transB: Bool, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        typealias G = GemmBlocking
        precondition(beta == 0 || beta == 1, "PackedB.multiply: beta must be 0 or 1")
        if m == 0 { return }
        if m <= 2 || k == 0 {
            sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: 1)
            return
        }
        let A = UnsafeMutablePointer(mutating: a)
        withScratch(min(G.kc, k) * min(G.mc, (m + G.mr - 1) / G.mr * G.mr)) { ap in
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
    }
}

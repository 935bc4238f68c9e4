// Aᵀ·B where A and B are both stored with k as their rows — a weight gradient Σ_t dA_tᵀ·x_t over every
// (sequence, step) of a recurrent layer, k = B·T. Both operands are read in place: each step of k already
// gives the micro-kernel its 12 values of A (contiguous) and 32 of B, so packing them first (a copy of both
// whole matrices, then a transpose of the result) only moved memory — it took as long as the FMAs.
import CKernels

/// C[m×n] = Aᵀ·B for A [k×m] (row stride lda) and B [k×n] (row stride ldb); C row stride ldc. With
/// `columnSums` ([m]), also the sums of A's columns over k — the bias gradient that goes with the weights',
/// summed by the same cores while A is at hand.
///
///     sumOfOuterProducts(m: 4 * h, n: h, k: b * t, a: dA, lda: 4 * h, b: hPrev, ldb: h, c: dW, ldc: h)
public func sumOfOuterProducts(
    m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, columnSums: UnsafeMutablePointer<Float>? = nil
) {
    if m == 0 || n == 0 { return }
    let S = columnSums.map(SendablePointer.init)
    guard GemmBlocking.useWide, k > 0 else {
        sgemm(transA: true, transB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: ldc)
        if let S { sumRows(a, lda, k, 0..<m, into: S.p) }
        return
    }
    // k in blocks of 128: one 32-column panel of B's block (16 KB) stays in L1 while every row tile uses it.
    let kb = 128
    let A = SendablePointer(UnsafeMutablePointer(mutating: a)), B = SendablePointer(UnsafeMutablePointer(mutating: b))
    let C = SendablePointer(c)
    let serial = 2 * m * n * k < GemmBlocking.minThreadedFlops
    Parallel.forRanges(m, minChunk: serial ? m : 12, align: 12) { rows in
        var p0 = 0
        while p0 < k {
            let kc = min(kb, k - p0)
            var j0 = 0
            while j0 < n {
                var i0 = rows.lowerBound
                while i0 < rows.upperBound {
                    dlp_sgemm_tn_12x32(
                        kc, A.p + p0 * lda + i0, lda, B.p + p0 * ldb + j0, ldb, C.p + i0 * ldc + j0, ldc,
                        min(12, rows.upperBound - i0), min(32, n - j0), p0 == 0 ? 0 : 1)
                    i0 += 12
                }
                j0 += 32
            }
            p0 += kb
        }
        if let S { sumRows(A.p, lda, k, rows, into: S.p) }
    }
}

/// sums[j] = Σ_p a[p·lda + j] for j in `columns`.
func sumRows(
    _ a: UnsafePointer<Float>, _ lda: Int, _ k: Int, _ columns: Range<Int>, into sums: UnsafeMutablePointer<Float>
) {
    let s = sums + columns.lowerBound
    s.update(repeating: 0, count: columns.count)
    for p in 0..<k { addInPlace(s, a + p * lda + columns.lowerBound, columns.count) }
}

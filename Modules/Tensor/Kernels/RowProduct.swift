// C rows (+)= A rows · packed B, with the rows addressed by pointer: a recurrent step multiplies the states of
// its sequences (rows T apart in the batch's layout, and in BPTT only the sequences still running) by W_hh,
// and writes next to the input projection it starts from. Addressing rows directly spares the per-step
// gathers, copies and padding of a packed 12-row tile (16 rows per core filled two tiles of 12).
import CKernels

/// What a row of C starts from before the product is added.
public enum RowStart {
    /// C = A·B.
    case zero
    /// C = C + A·B.
    case accumulate
    /// C = start row + A·B; pointers like the rows of C.
    case from(UnsafePointer<UnsafePointer<Float>?>)
}

extension PackedB {
    /// Floats of scratch `multiplyRows` needs for up to `m` rows.
    public func rowScratchCount(m: Int) -> Int {
        GemmBlocking.useWide ? 1 : m * (k + n) + scratchCount(m: m)
    }

    /// c[i][0..<n] = start + a[i][0..<k]·B for i in 0..<m, on the calling thread. The rows of A must not
    /// overlap the rows of C. `scratch` holds rowScratchCount(m:) floats.
    public func multiplyRows(
        m: Int, a: UnsafePointer<UnsafePointer<Float>?>, c: UnsafePointer<UnsafeMutablePointer<Float>?>,
        start: RowStart, scratch: UnsafeMutablePointer<Float>
    ) {
        if m == 0 { return }
        guard GemmBlocking.useWide, k > 0 else {
            return multiplyGathered(m: m, a: a, c: c, start: start, scratch: scratch)
        }
        var initial: UnsafePointer<UnsafePointer<Float>?>? = nil, mode: Int32 = 0
        switch start {
        case .zero: mode = 0
        case .accumulate: mode = 1
        case .from(let rows):
            mode = 2
            initial = rows
        }
        var i0 = 0
        while i0 < m {
            rowTile(rows: min(8, m - i0), a: a + i0, c: c + i0, initial: initial.map { $0 + i0 }, mode: mode)
            i0 += 8
        }
    }

    /// Up to 8 rows through every panel of B with the AVX-512 kernel; mode as dlp_sgemm_rows_8x32's.
    @inline(__always)
    func rowTile(
        rows mr: Int, a: UnsafePointer<UnsafePointer<Float>?>, c: UnsafePointer<UnsafeMutablePointer<Float>?>,
        initial: UnsafePointer<UnsafePointer<Float>?>?, mode: Int32
    ) {
        typealias G = GemmBlocking
        var j0 = 0
        while j0 < n {
            let nr = min(32, n - j0)
            var pc = 0
            while pc < k {
                let kc = min(G.kc, k - pc)
                dlp_sgemm_rows_8x32(kc, a, pc, p + pc * nPad + j0 * kc, c, j0, initial, mr, nr, pc == 0 ? mode : 1)
                pc += G.kc
            }
            j0 += 32
        }
    }

    /// C[m×n] = (start row, or 0) + A[m×k]·B for rows lda / ldc apart, split over the cores: the product of
    /// a whole batch of steps at once (an input projection with its bias, or the gradient flowing back to
    /// the inputs).
    public func multiplyAll(
        m: Int, a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        startRow: UnsafePointer<Float>?
    ) {
        if m == 0 { return }
        let A = SendablePointer(UnsafeMutablePointer(mutating: a)), C = SendablePointer(c)
        let S = startRow.map { SendablePointer(UnsafeMutablePointer(mutating: $0)) }
        let minRows = max(8, GemmBlocking.minThreadedFlops / max(1, 2 * n * k))
        Parallel.forRanges(m, minChunk: minRows, align: 8) { rows in
            guard GemmBlocking.useWide && k > 0 else {
                let c0 = C.p + rows.lowerBound * ldc
                if let S { for r in 0..<rows.count { (c0 + r * ldc).update(from: S.p, count: n) } }
                multiply(
                    m: rows.count, a: A.p + rows.lowerBound * lda, lda: lda, beta: S == nil ? 0 : 1, c: c0, ldc: ldc)
                return
            }
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: 16) { ptrs in
                withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: 8) { cs in
                    let aRows = ptrs.baseAddress!, sRows = aRows + 8, cRows = cs.baseAddress!
                    for q in 0..<8 { sRows[q] = S.map { UnsafePointer($0.p) } }
                    var i0 = rows.lowerBound
                    while i0 < rows.upperBound {
                        let mr = min(8, rows.upperBound - i0)
                        for q in 0..<mr {
                            aRows[q] = UnsafePointer(A.p + (i0 + q) * lda)
                            cRows[q] = C.p + (i0 + q) * ldc
                        }
                        rowTile(
                            rows: mr, a: aRows, c: cRows, initial: S == nil ? nil : UnsafePointer(sRows),
                            mode: S == nil ? 0 : 2)
                        i0 += 8
                    }
                }
            }
        }
    }

    /// Without the AVX-512 kernel: the rows gathered into a block, multiplied, and scattered back.
    func multiplyGathered(
        m: Int, a: UnsafePointer<UnsafePointer<Float>?>, c: UnsafePointer<UnsafeMutablePointer<Float>?>,
        start: RowStart, scratch: UnsafeMutablePointer<Float>
    ) {
        let ab = scratch, cb = scratch + m * k, packing = scratch + m * (k + n)
        for i in 0..<m {
            (ab + i * k).update(from: a[i]!, count: k)
            switch start {
            case .zero: break
            case .accumulate: (cb + i * n).update(from: c[i]!, count: n)
            case .from(let rows): (cb + i * n).update(from: rows[i]!, count: n)
            }
        }
        let beta: Float
        if case .zero = start { beta = 0 } else { beta = 1 }
        multiply(m: m, a: ab, lda: k, beta: beta, c: cb, ldc: n, scratch: packing)
        for i in 0..<m { c[i]!.update(from: cb + i * n, count: n) }
    }
}

/// Per-thread arrays of row pointers for `PackedB.multiplyRows`, allocated once per parallel region.
public struct RowPointers {
    public let a: UnsafeMutablePointer<UnsafePointer<Float>?>
    public let c: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    public let start: UnsafeMutablePointer<UnsafePointer<Float>?>

    /// Runs body with room for `count` rows of each kind.
    public static func with<R>(count: Int, _ body: (RowPointers) throws -> R) rethrows -> R {
        let n = max(count, 1)
        let p = RowPointers(a: .allocate(capacity: n), c: .allocate(capacity: n), start: .allocate(capacity: n))
        defer {
            p.a.deallocate()
            p.c.deallocate()
            p.start.deallocate()
        }
        return try body(p)
    }
}

// Matrix products on top of sgemm: [M,K]·[K,N], batched [B,M,K]·[B,K,N], and [B,M,K]·[K,N].
// Backward: dA = dC·Bᵀ, dB = Aᵀ·dC — the transposes are absorbed by GEMM packing, never materialised.

extension Tensor {
    /// Matrix product (2-D, or batched 3-D with a 3-D or shared 2-D right operand).
    ///
    ///     let y = x.matmul(w)   // [N,K]·[K,M]
    public func matmul(_ other: Tensor) -> Tensor {
        let a = self, b = other
        precondition(
            (a.rank == 2 || a.rank == 3) && (b.rank == 2 || b.rank == 3) && !(a.rank == 2 && b.rank == 3),
            "matmul: unsupported shapes \(a.shape) · \(b.shape)")
        let batch = a.rank == 3 ? a.shape[0] : 1
        if a.rank == 3 && b.rank == 3 {
            precondition(b.shape[0] == batch, "matmul: batch \(a.shape[0]) vs \(b.shape[0])")
        }
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], n = b.shape[b.rank - 1]
        precondition(b.shape[b.rank - 2] == k, "matmul: inner dimensions differ in \(a.shape) · \(b.shape)")
        let sharedB = b.rank == 2
        let out = Tensor(uninitialized: a.rank == 3 ? [batch, m, n] : [m, n])
        if sharedB {
            // [B,M,K]·[K,N] is one GEMM with B·M rows.
            sgemm(
                transA: false, transB: false, m: batch * m, n: n, k: k, a: a.data, lda: k, b: b.data, ldb: n,
                beta: 0, c: out.data, ldc: n)
        } else {
            for i in 0..<batch {
                sgemm(
                    transA: false, transB: false, m: m, n: n, k: k, a: a.data + i * m * k, lda: k,
                    b: b.data + i * k * n, ldb: n, beta: 0, c: out.data + i * m * n, ldc: n)
            }
        }
        return out.recorded([a, b]) { _, g in
            var ga: Tensor?, gb: Tensor?
            if a.requiresGrad {
                let t = Tensor(uninitialized: a.shape)
                if sharedB {
                    sgemm(
                        transA: false, transB: true, m: batch * m, n: k, k: n, a: g.data, lda: n, b: b.data, ldb: n,
                        beta: 0, c: t.data, ldc: k)
                } else {
                    for i in 0..<batch {
                        sgemm(
                            transA: false, transB: true, m: m, n: k, k: n, a: g.data + i * m * n, lda: n,
                            b: b.data + i * k * n, ldb: n, beta: 0, c: t.data + i * m * k, ldc: k)
                    }
                }
                ga = t
            }
            if b.requiresGrad {
                let t = Tensor(uninitialized: b.shape)
                if sharedB {
                    sgemm(
                        transA: true, transB: false, m: k, n: n, k: batch * m, a: a.data, lda: k, b: g.data, ldb: n,
                        beta: 0, c: t.data, ldc: n)
                } else {
                    for i in 0..<batch {
                        sgemm(
                            transA: true, transB: false, m: k, n: n, k: m, a: a.data + i * m * k, lda: k,
                            b: g.data + i * m * n, ldb: n, beta: 0, c: t.data + i * k * n, ldc: n)
                    }
                }
                gb = t
            }
            return [ga, gb]
        }
    }
}

extension Tensor {
    /// self · otherᵀ for self: [N,K], other: [M,K] → [N,M] (a Linear layer's product), no transpose copy.
    public func matmulTransposed(_ other: Tensor) -> Tensor {
        let a = self, b = other
        precondition(
            a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[1],
            "matmulTransposed: \(a.shape) · \(b.shape)ᵀ")
        let n = a.shape[0], k = a.shape[1], m = b.shape[0]
        let out = Tensor(uninitialized: [n, m])
        sgemm(
            transA: false, transB: true, m: n, n: m, k: k, a: a.data, lda: k, b: b.data, ldb: k,
            beta: 0, c: out.data, ldc: m)
        return out.recorded([a, b]) { _, g in
            var ga: Tensor?, gb: Tensor?
            if a.requiresGrad {
                let t = Tensor(uninitialized: a.shape)  // g·B : [N,M]·[M,K]
                sgemm(
                    transA: false, transB: false, m: n, n: k, k: m, a: g.data, lda: m, b: b.data, ldb: k,
                    beta: 0, c: t.data, ldc: k)
                ga = t
            }
            if b.requiresGrad {
                let t = Tensor(uninitialized: b.shape)  // gᵀ·A : [M,N]·[N,K]
                sgemm(
                    transA: true, transB: false, m: m, n: k, k: n, a: g.data, lda: m, b: a.data, ldb: k,
                    beta: 0, c: t.data, ldc: k)
                gb = t
            }
            return [ga, gb]
        }
    }
}

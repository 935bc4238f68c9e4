// The Fréchet distance between two sets of feature vectors, each summarised as a Gaussian (mean and
// covariance): |μ₁ − μ₂|² + tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½) — FID when the features are a classifier's
// penultimate layer. Computed in Double; square roots of the symmetric matrices come from Jacobi
// eigendecompositions (the matrices are small: one row per feature).
import Foundation

enum FrechetDistance {
    /// `a` and `b`: rows of `dim` features each (row-major).
    static func between(_ a: [Float], _ b: [Float], dim: Int) -> Double {
        let (ma, ca) = moments(a, dim: dim), (mb, cb) = moments(b, dim: dim)
        var meanTerm = 0.0
        for i in 0..<dim { meanTerm += (ma[i] - mb[i]) * (ma[i] - mb[i]) }
        let rootA = symmetricSquareRoot(ca, dim)
        let m = multiply(multiply(rootA, cb, dim), rootA, dim)
        let cross = eigenvalues(m, dim).reduce(0) { $0 + Foundation.sqrt(max($1, 0)) }
        var traces = 0.0
        for i in 0..<dim { traces += ca[i * dim + i] + cb[i * dim + i] }
        return max(0, meanTerm + traces - 2 * cross)
    }

    /// Mean and (unbiased) covariance of the rows.
    static func moments(_ x: [Float], dim: Int) -> (mean: [Double], cov: [Double]) {
        let n = x.count / dim
        var mean = [Double](repeating: 0, count: dim)
        for r in 0..<n { for i in 0..<dim { mean[i] += Double(x[r * dim + i]) } }
        for i in 0..<dim { mean[i] /= Double(max(n, 1)) }
        var cov = [Double](repeating: 0, count: dim * dim)
        var row = [Double](repeating: 0, count: dim)
        for r in 0..<n {
            for i in 0..<dim { row[i] = Double(x[r * dim + i]) - mean[i] }
            for i in 0..<dim where row[i] != 0 { for j in i..<dim { cov[i * dim + j] += row[i] * row[j] } }
        }
        let scale = 1 / Double(max(n - 1, 1))
        for i in 0..<dim {
            for j in i..<dim {
                cov[i * dim + j] *= scale
                cov[j * dim + i] = cov[i * dim + j]
            }
        }
        return (mean, cov)
    }

    static func multiply(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for k in 0..<n where a[i * n + k] != 0 {
                let v = a[i * n + k]
                for j in 0..<n { c[i * n + j] += v * b[k * n + j] }
            }
        }
        return c
    }

    /// V · diag(√max(λ, 0)) · Vᵀ of a symmetric matrix.
    static func symmetricSquareRoot(_ a: [Double], _ n: Int) -> [Double] {
        let (values, vectors) = jacobi(a, n)
        var out = [Double](repeating: 0, count: n * n)
        for k in 0..<n {
            let s = Foundation.sqrt(max(values[k], 0))
            if s == 0 { continue }
            for i in 0..<n {
                let vik = vectors[i * n + k] * s
                for j in 0..<n { out[i * n + j] += vik * vectors[j * n + k] }
            }
        }
        return out
    }

    static func eigenvalues(_ a: [Double], _ n: Int) -> [Double] { jacobi(a, n).values }

    /// Cyclic Jacobi rotations until the off-diagonal part is negligible: eigenvalues and eigenvectors
    /// (columns of `vectors`) of a symmetric matrix.
    static func jacobi(_ input: [Double], _ n: Int) -> (values: [Double], vectors: [Double]) {
        var a = input
        // Symmetrise: products of symmetric matrices are symmetric only up to rounding.
        for i in 0..<n {
            for j in (i + 1)..<max(n, i + 1) {
                let m = (a[i * n + j] + a[j * n + i]) / 2
                a[i * n + j] = m
                a[j * n + i] = m
            }
        }
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        var scale = 0.0
        for x in a { scale += x * x }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { off += a[i * n + j] * a[i * n + j] } }
            if off <= 1e-22 * max(scale, 1e-300) { break }
            for p in 0..<n {
                for q in (p + 1)..<max(n, p + 1) {
                    let apq = a[p * n + q]
                    if abs(apq) < 1e-300 { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + Foundation.sqrt(theta * theta + 1))
                    let c = 1 / Foundation.sqrt(t * t + 1), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}

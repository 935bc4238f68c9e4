// softmax and logSoftmax over one axis (default last), numerically stable (max subtracted).
import Foundation

extension Tensor {
    /// Computes (log)softmax rows; rows are strided by `inner` when the axis is not the last.
    func softmaxCore(axis: Int, log: Bool) -> Tensor {
        let (outer, n, inner) = split(axis)
        let out = Tensor(uninitialized: shape)
        let src = data, dst = out.data
        if inner == 1 {
            for o in 0..<outer { softmaxRow(src + o * n, dst + o * n, n, log: log) }
        } else {
            withScratch(2 * n) { tmp in
                for o in 0..<outer {
                    for i in 0..<inner {
                        for j in 0..<n { tmp[j] = src[(o * n + j) * inner + i] }
                        softmaxRow(tmp, tmp + n, n, log: log)
                        for j in 0..<n { dst[(o * n + j) * inner + i] = tmp[n + j] }
                    }
                }
            }
        }
        return out
    }

    /// Softmax along `axis`.
    public func softmax(axis: Int = -1) -> Tensor {
        let out = softmaxCore(axis: axis, log: false)
        let (outer, n, inner) = split(axis)
        return out.recorded([self]) { y, g in
            // dx = y ⊙ (g − Σ g⊙y)
            let gi = Tensor(uninitialized: y.shape)
            for o in 0..<outer {
                for i in 0..<inner {
                    var dot: Float = 0
                    for j in 0..<n {
                        let k = (o * n + j) * inner + i
                        dot += g.data[k] * y.data[k]
                    }
                    for j in 0..<n {
                        let k = (o * n + j) * inner + i
                        gi.data[k] = y.data[k] * (g.data[k] - dot)
                    }
                }
            }
            return [gi]
        }
    }

    /// log(softmax) along `axis`, computed without forming the softmax.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let out = softmaxCore(axis: axis, log: true)
        let (outer, n, inner) = split(axis)
        return out.recorded([self]) { y, g in
            // dx = g − softmax ⊙ Σ g
            let gi = Tensor(uninitialized: y.shape)
            for o in 0..<outer {
                for i in 0..<inner {
                    var s: Float = 0
                    for j in 0..<n { s += g.data[(o * n + j) * inner + i] }
                    for j in 0..<n {
                        let k = (o * n + j) * inner + i
                        gi.data[k] = g.data[k] - Foundation.exp(y.data[k]) * s
                    }
                }
            }
            return [gi]
        }
    }
}

/// softmax (or log-softmax) of one contiguous row of n values.
@inline(__always)
public func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, log: Bool) {
    let m = maxFloats(x, n)
    var i = 0
    var acc = F8()
    while i + 8 <= n {
        let e = exp8(load8(x + i) - F8(repeating: m))
        store8(e, y + i)
        acc += e
        i += 8
    }
    var s = acc.sum()
    while i < n {
        let e = Foundation.exp(x[i] - m)
        y[i] = e
        s += e
        i += 1
    }
    if log {
        let ls = Foundation.log(s) + m
        for j in 0..<n { y[j] = x[j] - ls }
    } else {
        let inv = 1 / s
        for j in 0..<n { y[j] *= inv }
    }
}

// Reductions over axes: sum, mean, max (gradient to the first maximum), argmax.
// Each reduces one axis at a time viewed as [outer, n, inner].

extension Tensor {
    /// (outer, n, inner) sizes around `axis`.
    func split(_ axis: Int) -> (Int, Int, Int) {
        let a = self.axis(axis)
        return (shape[..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
    }

    func reducedShape(_ axis: Int, keepDims: Bool) -> [Int] {
        var s = shape
        if keepDims { s[self.axis(axis)] = 1 } else { s.remove(at: self.axis(axis)) }
        return s
    }

    /// Sum of all elements (a scalar tensor of shape []).
    public func sum() -> Tensor {
        let out = Tensor(uninitialized: [])
        out.data[0] = sumFloats(data, count)
        let s = shape
        return out.recorded([self]) { _, g in [Tensor.full(s, g.item)] }
    }

    /// Mean of all elements.
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Sum over the given axes.
    ///
    ///     x.sum(axes: [0])   // column sums of a matrix
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        var t = self
        for a in Set(axes.map { self.axis($0) }).sorted(by: >) { t = t.sumAxis(a, keepDims: keepDims) }
        return t
    }

    /// Mean over the given axes.
    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let n = Set(axes.map { self.axis($0) }).reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
    }

    func sumAxis(_ axis: Int, keepDims: Bool) -> Tensor {
        let (outer, n, inner) = split(axis)
        let out = Tensor.zeros(reducedShape(axis, keepDims: keepDims))
        let src = data, dst = out.data
        for o in 0..<outer {
            if inner == 1 {
                dst[o] = sumFloats(src + o * n, n)
                continue
            }
            for j in 0..<n { addInPlace(dst + o * inner, src + (o * n + j) * inner, inner) }
        }
        let s = shape, keep = reducedShape(axis, keepDims: true)
        return out.recorded([self]) { _, g in
            [Tensor(shape: keep, storage: g.storage, offset: g.offset).expanded(to: s)]
        }
    }

    /// Maximum over one axis; the gradient flows to the first maximal element.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let (outer, n, inner) = split(axis)
        precondition(n > 0, "max over an empty axis of \(shape)")
        let out = Tensor(uninitialized: reducedShape(axis, keepDims: keepDims))
        var argIdx = [Int32](repeating: 0, count: outer * inner)
        let src = data, dst = out.data
        for o in 0..<outer {
            for i in 0..<inner {
                var best = src[o * n * inner + i], bi = 0
                for j in 1..<n where src[(o * n + j) * inner + i] > best {
                    best = src[(o * n + j) * inner + i]
                    bi = j
                }
                dst[o * inner + i] = best
                argIdx[o * inner + i] = Int32(bi)
            }
        }
        let s = shape
        return out.recorded([self]) { _, g in
            let gi = Tensor.zeros(s)
            for o in 0..<outer {
                for i in 0..<inner {
                    gi.data[(o * n + Int(argIdx[o * inner + i])) * inner + i] = g.data[o * inner + i]
                }
            }
            return [gi]
        }
    }

    /// Index of the maximum along `axis`, as Float values (no gradient).
    public func argmax(axis: Int = -1) -> Tensor {
        let (outer, n, inner) = split(axis)
        precondition(n > 0, "argmax over an empty axis of \(shape)")
        let out = Tensor(uninitialized: reducedShape(axis, keepDims: false))
        for o in 0..<outer {
            for i in 0..<inner {
                var best = data[o * n * inner + i], bi = 0
                for j in 1..<n where data[(o * n + j) * inner + i] > best {
                    best = data[(o * n + j) * inner + i]
                    bi = j
                }
                out.data[o * inner + i] = Float(bi)
            }
        }
        return out
    }

    /// Row-wise argmax of a [N, C] tensor as Ints.
    public func argmaxRows() -> [Int] { argmax(axis: -1).scalars.map { Int($0) } }
}

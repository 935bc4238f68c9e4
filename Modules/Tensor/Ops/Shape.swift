// Layout ops: reshape (a view), permute/transpose (copies), batch slicing (a view), narrowing and chunking
// on any axis (copies, except on axis 0), concat and stack.

extension Tensor {
    /// Same data, new shape; one dimension may be -1 (inferred).
    ///
    ///     x.reshaped([x.shape[0], -1])   // flatten
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            s[i] = count / known
        }
        precondition(Tensor.elementCount(s) == count, "cannot reshape \(shape) (\(count) elements) to \(newShape)")
        let out = Tensor(shape: s, storage: storage, offset: offset)
        let old = shape
        return out.recorded([self]) { _, g in [Tensor(shape: old, storage: g.storage, offset: g.offset)] }
    }

    /// Reorders axes: output axis i is input axis `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "permutation \(order) for rank \(rank)")
        let outShape = order.map { shape[$0] }
        let out = Tensor(uninitialized: outShape)
        let inStrides = strides
        let srcStrides = order.map { inStrides[$0] }
        let zero = [Int](repeating: 0, count: rank)
        let src = data, dst = out.data
        forEachBroadcastRun(outShape, srcStrides, zero) { o, a, _, n, sa, _ in
            if sa == 1 {
                (dst + o).update(from: src + a, count: n)
            } else {
                for i in 0..<n { dst[o + i] = src[a + i * sa] }
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in order.enumerated() { inverse[p] = i }
        return out.recorded([self]) { _, g in [g.permuted(inverse)] }
    }

    /// Swaps two axes (default: the last two).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(axis(a), axis(b))
        return permuted(order)
    }

    /// Rows `range` of axis 0, as a view sharing storage.
    public func slice(_ range: Range<Int>) -> Tensor {
        precondition(
            rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
            "slice \(range) of axis 0 with size \(shape.first ?? 0)")
        let rowSize = shape.dropFirst().reduce(1, *)
        var s = shape
        s[0] = range.count
        let out = Tensor(shape: s, storage: storage, offset: offset + range.lowerBound * rowSize)
        let full = shape
        return out.recorded([self]) { _, g in
            let gi = Tensor.zeros(full)
            (gi.data + range.lowerBound * rowSize).update(from: g.data, count: g.count)
            return [gi]
        }
    }

    /// Indices `range` of `axis` (PyTorch's `narrow`): a view on axis 0, a copy elsewhere. The gradient
    /// lands in those indices of a zero gradient.
    ///
    ///     let (i, f) = (gates.narrowed(axis: 1, 0..<h), gates.narrowed(axis: 1, h..<2 * h))
    public func narrowed(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = self.axis(axis)
        precondition(
            range.lowerBound >= 0 && range.upperBound <= shape[a],
            "narrowed: \(range) of axis \(a) with size \(shape[a])")
        if a == 0 { return slice(range) }
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        let rowIn = shape[a] * inner, rowOut = range.count * inner, start = range.lowerBound * inner
        var outShape = shape
        outShape[a] = range.count
        let out = Tensor(uninitialized: outShape)
        for o in 0..<outer { (out.data + o * rowOut).update(from: data + o * rowIn + start, count: rowOut) }
        let full = shape
        return out.recorded([self]) { _, g in
            let gi = Tensor.zeros(full)
            for o in 0..<outer { (gi.data + o * rowIn + start).update(from: g.data + o * rowOut, count: rowOut) }
            return [gi]
        }
    }

    /// `count` equal parts along `axis` (PyTorch's `chunk` when the size divides evenly).
    ///
    ///     let gates = pre.chunked(4, axis: 1)   // i, f, g, o
    public func chunked(_ count: Int, axis: Int) -> [Tensor] {
        let a = self.axis(axis)
        precondition(
            count > 0 && shape[a] % count == 0, "chunked: axis \(a) of size \(shape[a]) into \(count) equal parts")
        let size = shape[a] / count
        return (0..<count).map { narrowed(axis: a, $0 * size..<($0 + 1) * size) }
    }

    /// Joins tensors along `axis`; all other dimensions must match.
    public static func concat(_ parts: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!parts.isEmpty, "concat of nothing")
        let first = parts[0]
        let a = first.axis(axis)
        for p in parts {
            precondition(
                p.rank == first.rank && (0..<first.rank).allSatisfy { $0 == a || p.shape[$0] == first.shape[$0] },
                "concat: shape \(p.shape) does not match \(first.shape) outside axis \(a)")
        }
        var outShape = first.shape
        outShape[a] = parts.reduce(0) { $0 + $1.shape[a] }
        let outer = first.shape[..<a].reduce(1, *)
        let inner = first.shape[(a + 1)...].reduce(1, *)
        let out = Tensor(uninitialized: outShape)
        let rowOut = outShape[a] * inner
        var start = 0
        var starts: [Int] = []
        for p in parts {
            starts.append(start)
            let w = p.shape[a] * inner
            for o in 0..<outer { (out.data + o * rowOut + start).update(from: p.data + o * w, count: w) }
            start += w
        }
        return out.recorded(parts) { _, g in
            parts.enumerated().map { i, p in
                guard p.requiresGrad else { return nil }
                let w = p.shape[a] * inner
                let gi = Tensor(uninitialized: p.shape)
                for o in 0..<outer { (gi.data + o * w).update(from: g.data + o * rowOut + starts[i], count: w) }
                return gi
            }
        }
    }

    /// Stacks equally shaped tensors along a new axis.
    public static func stack(_ parts: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!parts.isEmpty, "stack of nothing")
        let r = parts[0].rank
        let a = axis < 0 ? axis + r + 1 : axis
        precondition(a >= 0 && a <= r, "stack axis \(axis) for rank \(r)")
        return concat(
            parts.map { p in
                var s = p.shape
                s.insert(1, at: a)
                return p.reshaped(s)
            }, axis: a)
    }
}

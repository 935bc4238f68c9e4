// Broadcasting (NumPy rules) for binary ops, and its gradient rule written once: the gradient of a
// broadcast operand is the output gradient summed back down to the operand's shape.

/// Shape two operands broadcast to, or nil if incompatible.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let r = max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
        let da = i < r - a.count ? 1 : a[i - (r - a.count)]
        let db = i < r - b.count ? 1 : b[i - (r - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
    }
    return out
}

/// Strides of `shape` seen inside `target` (0 on broadcast axes), aligned to target's rank.
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let r = target.count
    var s = [Int](repeating: 0, count: r)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        let ti = i + (r - shape.count)
        s[ti] = shape[i] == 1 && target[ti] != 1 ? 0 : acc
        acc *= shape[i]
    }
    return s
}

/// Calls `body(outOffset, aOffset, bOffset, innerCount, aInnerStride, bInnerStride)` over runs of the
/// innermost axis, so the body can run a tight (often SIMD) loop.
@inline(__always)
func forEachBroadcastRun(
    _ out: [Int], _ sa: [Int], _ sb: [Int],
    _ body: (Int, Int, Int, Int, Int, Int) -> Void
) {
    let r = out.count
    if r == 0 {
        body(0, 0, 0, 1, 0, 0)
        return
    }
    let inner = out[r - 1]
    let outer = out.count == 0 ? 1 : out.dropLast().reduce(1, *)
    var idx = [Int](repeating: 0, count: r)
    var oa = 0, ob = 0
    for o in 0..<outer {
        body(o * inner, oa, ob, inner, sa[r - 1], sb[r - 1])
        // Advance the multi-index over the outer axes.
        var ax = r - 2
        while ax >= 0 {
            idx[ax] += 1
            oa += sa[ax]
            ob += sb[ax]
            if idx[ax] < out[ax] { break }
            oa -= sa[ax] * out[ax]
            ob -= sb[ax] * out[ax]
            idx[ax] = 0
            ax -= 1
        }
    }
}

extension Tensor {
    /// Sums this tensor down to `target` shape (the reverse of broadcasting). Returns self if equal.
    public func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        let out = Tensor.zeros(target)
        let st = broadcastStrides(target, to: shape)
        let zero = [Int](repeating: 0, count: shape.count)
        let src = data, dst = out.data
        forEachBroadcastRun(shape, st, zero) { o, t, _, n, ts, _ in
            if ts == 0 { dst[t] += sumFloats(src + o, n) } else { addInPlace(dst + t, src + o, n) }
        }
        return out
    }

    /// This tensor broadcast (copied) to `target` shape.
    public func expanded(to target: [Int]) -> Tensor {
        precondition(broadcastShape(shape, target) == target, "cannot expand \(shape) to \(target)")
        if shape == target { return self }
        let out = Tensor(uninitialized: target)
        let sa = broadcastStrides(shape, to: target)
        let zero = [Int](repeating: 0, count: target.count)
        let src = data, dst = out.data
        forEachBroadcastRun(target, sa, zero) { o, a, _, n, as_, _ in
            if as_ == 0 {
                (dst + o).update(repeating: src[a], count: n)
            } else {
                (dst + o).update(from: src + a, count: n)
            }
        }
        return out.recorded([self]) { _, g in [g.sumToShape(self.shape)] }
    }
}

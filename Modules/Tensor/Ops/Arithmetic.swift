// Broadcasting add/sub/mul/div and scalar forms, each with its backward beside it.

enum BinaryOp { case add, sub, mul, div }

extension Tensor {
    /// Elementwise binary op with broadcasting; the kernel loop runs over contiguous inner runs.
    func binary(_ other: Tensor, _ op: BinaryOp) -> Tensor {
        guard let shapeOut = broadcastShape(shape, other.shape) else {
            preconditionFailure("shapes \(shape) and \(other.shape) do not broadcast")
        }
        let out = Tensor(uninitialized: shapeOut)
        let sa = broadcastStrides(shape, to: shapeOut), sb = broadcastStrides(other.shape, to: shapeOut)
        let pa = data, pb = other.data, po = out.data
        @inline(__always) func run(_ v: (F8, F8) -> F8, _ s: (Float, Float) -> Float) {
            forEachBroadcastRun(shapeOut, sa, sb) { o, a, b, n, ia, ib in
                if ia == 1 && ib == 1 {
                    zip8(pa + a, pb + b, po + o, n, v, s)
                } else if ia == 1 && ib == 0 {
                    let y = pb[b]
                    map8(pa + a, po + o, n, { v($0, F8(repeating: y)) }, { s($0, y) })
                } else if ia == 0 && ib == 1 {
                    let x = pa[a]
                    map8(pb + b, po + o, n, { v(F8(repeating: x), $0) }, { s(x, $0) })
                } else {
                    for i in 0..<n { po[o + i] = s(pa[a + i * ia], pb[b + i * ib]) }
                }
            }
        }
        switch op {
        case .add: run({ $0 + $1 }, { $0 + $1 })
        case .sub: run({ $0 - $1 }, { $0 - $1 })
        case .mul: run({ $0 * $1 }, { $0 * $1 })
        case .div: run({ $0 / $1 }, { $0 / $1 })
        }
        let a = self, b = other
        return out.recorded([a, b]) { _, g in
            switch op {
            case .add: return [g.sumToShape(a.shape), g.sumToShape(b.shape)]
            case .sub: return [g.sumToShape(a.shape), Autograd.noGrad { g.negated() }.sumToShape(b.shape)]
            case .mul:
                return Autograd.noGrad {
                    [
                        a.requiresGrad ? (g * b).sumToShape(a.shape) : nil,
                        b.requiresGrad ? (g * a).sumToShape(b.shape) : nil,
                    ]
                }
            case .div:
                return Autograd.noGrad {
                    [
                        a.requiresGrad ? (g / b).sumToShape(a.shape) : nil,
                        b.requiresGrad ? (g * a / (b * b)).negated().sumToShape(b.shape) : nil,
                    ]
                }
            }
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { a.binary(b, .add) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.binary(b, .sub) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.binary(b, .mul) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.binary(b, .div) }

    /// a·x + b elementwise with scalars (the building block of scalar arithmetic).
    public func affine(scale: Float, shift: Float) -> Tensor {
        let out = Tensor(uninitialized: shape)
        map8(data, out.data, count, { $0 * F8(repeating: scale) + F8(repeating: shift) }, { $0 * scale + shift })
        return out.recorded([self]) { _, g in [g.affine(scale: scale, shift: 0)] }
    }
    public func negated() -> Tensor { affine(scale: -1, shift: 0) }
    public static func + (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: s) }
    public static func - (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: -s) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.affine(scale: s, shift: 0) }
    public static func / (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1 / s, shift: 0) }
    public static func * (s: Float, a: Tensor) -> Tensor { a.affine(scale: s, shift: 0) }
    public static func + (s: Float, a: Tensor) -> Tensor { a.affine(scale: 1, shift: s) }
    public static func - (s: Float, a: Tensor) -> Tensor { a.affine(scale: -1, shift: s) }
    public static prefix func - (a: Tensor) -> Tensor { a.negated() }
}

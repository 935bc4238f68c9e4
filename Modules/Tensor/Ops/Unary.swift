// Pointwise math and activations: forward kernel and backward rule side by side.
import Foundation

extension Tensor {
    /// Applies a pointwise function; `derivative(x, y)` gives dy/dx from input x and output y.
    @inline(__always)
    func pointwise(
        _ v: (F8) -> F8, _ s: (Float) -> Float,
        derivative: @escaping (_ x: Float, _ y: Float) -> Float
    ) -> Tensor {
        let out = Tensor(uninitialized: shape)
        map8(data, out.data, count, v, s)
        let x = self
        return out.recorded([x]) { y, g in
            let gi = Tensor(uninitialized: x.shape)
            let px = x.data, py = y.data, pg = g.data, po = gi.data
            for i in 0..<x.count { po[i] = pg[i] * derivative(px[i], py[i]) }
            return [gi]
        }
    }

    public func exp() -> Tensor {
        pointwise({ exp8($0) }, { Foundation.exp($0) }, derivative: { _, y in y })
    }
    public func log() -> Tensor {
        pointwise(
            { v in
                var r = F8()
                for i in 0..<8 { r[i] = Foundation.log(v[i]) }
                return r
            },
            { Foundation.log($0) }, derivative: { x, _ in 1 / x })
    }
    public func sqrt() -> Tensor {
        pointwise({ $0.squareRoot() }, { $0.squareRoot() }, derivative: { _, y in 0.5 / y })
    }
    public func relu() -> Tensor {
        pointwise({ pointwiseMax8($0, F8()) }, { Swift.max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 })
    }
    public func leakyReLU(_ slope: Float = 0.01) -> Tensor {
        pointwise(
            { $0.replacing(with: $0 * F8(repeating: slope), where: $0 .< F8()) },
            { $0 < 0 ? $0 * slope : $0 }, derivative: { x, _ in x > 0 ? 1 : slope })
    }
    public func sigmoid() -> Tensor {
        pointwise(
            { F8(repeating: 1) / (F8(repeating: 1) + exp8(-$0)) }, { 1 / (1 + Foundation.exp(-$0)) },
            derivative: { _, y in y * (1 - y) })
    }
    public func tanh() -> Tensor {
        // tanh(x) = 2σ(2x) − 1, vectorised through exp8.
        pointwise(
            { F8(repeating: 2) / (F8(repeating: 1) + exp8(F8(repeating: -2) * $0)) - F8(repeating: 1) },
            { Foundation.tanh($0) }, derivative: { _, y in 1 - y * y })
    }
    public func squared() -> Tensor { pointwise({ $0 * $0 }, { $0 * $0 }, derivative: { x, _ in 2 * x }) }
}

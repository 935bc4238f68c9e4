// Optimizers update parameters in place from their .grad, one flat loop per tensor.
// Learning rate may be changed between steps (see LRSchedule).
import Foundation
import Tensor
import CKernels

public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    /// Applies one update using the current gradients.
    func step()
    /// Everything besides the parameters that decides the next steps (moments, step count), for exact resume.
    var state: OptimizerState { get }
    /// Puts back a state taken from an optimizer of the same kind over the same parameter shapes.
    func restore(_ state: OptimizerState) throws
}

/// An optimizer's saved state: named tensors and its step count.
public struct OptimizerState {
    public var tensors: [(String, Tensor)]
    public var steps: Int
    public init(tensors: [(String, Tensor)], steps: Int) {
        self.tensors = tensors
        self.steps = steps
    }
}

public struct OptimizerStateError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Copies `saved` into `into`, matched by name and shape.
func restoreTensors(_ saved: [(String, Tensor)], into mine: [(String, Tensor)]) throws {
    let byName = Dictionary(saved, uniquingKeysWith: { a, _ in a })
    guard byName.count == mine.count else {
        throw OptimizerStateError(
            message: "optimizer state holds \(byName.count) tensors, this optimizer has \(mine.count)")
    }
    for (name, t) in mine {
        guard let s = byName[name], s.shape == t.shape else {
            throw OptimizerStateError(message: "optimizer state '\(name)' is missing or has another shape")
        }
        t.data.update(from: s.data, count: t.count)
    }
}

/// SGD with optional momentum (PyTorch's formulation), Nesterov, and L2 weight decay.
///
///     let opt = SGD(model.parameters, learningRate: 0.1, momentum: 0.9)
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float, nesterov: Bool, weightDecay: Float
    let params: [Tensor]
    var velocity: [Tensor?]
    public init(
        _ params: [Tensor], learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0
    ) {
        self.params = params
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        velocity = Array(repeating: nil, count: params.count)
    }
    /// Velocities exist once a parameter has had a gradient; a missing one is saved as absent.
    public var state: OptimizerState {
        OptimizerState(tensors: velocity.enumerated().compactMap { i, v in v.map { ("velocity.\(i)", $0) } }, steps: 0)
    }
    public func restore(_ s: OptimizerState) throws {
        var v: [Tensor?] = Array(repeating: nil, count: params.count)
        for (name, t) in s.tensors {
            guard name.hasPrefix("velocity."), let i = Int(name.dropFirst(9)), params.indices.contains(i),
                t.shape == params[i].shape
            else {
                throw OptimizerStateError(message: "SGD state '\(name)' does not fit these parameters")
            }
            v[i] = t.copy()
        }
        velocity = v
    }
    public func step() {
        for (i, p) in params.enumerated() {
            guard let g = p.grad else { continue }
            let n = p.count, w = p.data, gd = g.data
            if weightDecay != 0 { for j in 0..<n { gd[j] += weightDecay * w[j] } }
            if momentum != 0 {
                if velocity[i] == nil {
                    velocity[i] = g.copy()
                } else {
                    let v = velocity[i]!.data
                    for j in 0..<n { v[j] = momentum * v[j] + gd[j] }
                }
                let v = velocity[i]!.data
                if nesterov {
                    for j in 0..<n { w[j] -= learningRate * (gd[j] + momentum * v[j]) }
                } else {
                    for j in 0..<n { w[j] -= learningRate * v[j] }
                }
            } else {
                for j in 0..<n { w[j] -= learningRate * gd[j] }
            }
        }
    }
}

/// Adam (L2 weight decay added to the gradient) or AdamW (decoupled decay) — one fused SIMD pass
/// per tensor updating m, v and the weight together.
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float, decoupled: Bool
    let params: [Tensor]
    var m: [Tensor], v: [Tensor]
    /// The most steps a restored state may claim: 2^40.
    static let maxSteps = 1 << 40
    var t = 0
    public init(
        _ params: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        eps: Float = 1e-8, weightDecay: Float = 0, decoupled: Bool = false
    ) {
        self.params = params
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        m = params.map { Tensor.zeros($0.shape) }
        v = params.map { Tensor.zeros($0.shape) }
    }
    public var state: OptimizerState {
        OptimizerState(
            tensors: m.enumerated().map { ("m.\($0.offset)", $0.element) }
                + v.enumerated().map { ("v.\($0.offset)", $0.element) },
            steps: t)
    }
    public func restore(_ s: OptimizerState) throws {
        // A count read from a file: bounded (far beyond any run) so the next step cannot overflow it.
        guard (0...Self.maxSteps).contains(s.steps) else {
            throw OptimizerStateError(message: "Adam state's step count \(s.steps) is out of range 0…\(Self.maxSteps)")
        }
        try restoreTensors(s.tensors, into: state.tensors)
        t = s.steps
    }
    public func step() {
        t += 1
        let bc1 = 1 - Foundation.pow(beta1, Float(t)), bc2 = 1 - Foundation.pow(beta2, Float(t))
        let stepSize = learningRate / bc1, invBc2Sqrt = 1 / bc2.squareRoot()
        for (i, p) in params.enumerated() {
            guard let g = p.grad else { continue }
            let n = p.count, w = p.data, gd = g.data, md = m[i].data, vd = v[i].data
            let b1 = beta1, b2 = beta2, l2 = decoupled ? 0 : weightDecay
            let decay = decoupled ? 1 - learningRate * weightDecay : 1
            // One fused pass in C (Modules/CKernels/adam.c, where the square root vectorises); large tensors
            // on all cores.
            let W = SendablePointer(w), G = SendablePointer(gd), M = SendablePointer(md), Vv = SendablePointer(vd)
            let (bc, sz, ep) = (invBc2Sqrt, stepSize, eps)
            Parallel.forRanges(n, minChunk: 1 << 14, align: 8) { r in
                let o = r.lowerBound
                dlp_adam_update(r.count, W.p + o, G.p + o, M.p + o, Vv.p + o, b1, b2, l2, decay, sz, bc, ep)
            }
        }
    }
}

/// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter).
public func AdamW(
    _ params: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
    eps: Float = 1e-8, weightDecay: Float = 0.01
) -> Adam {
    Adam(
        params, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay,
        decoupled: true)
}

/// Scales all gradients so their global L2 norm is at most `maxNorm`; returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ params: [Tensor], maxNorm: Float) -> Float {
    var sq: Double = 0
    for p in params { if let g = p.grad { for j in 0..<g.count { sq += Double(g.data[j]) * Double(g.data[j]) } } }
    let norm = Float(sq.squareRoot())
    if norm > maxNorm && norm > 0 {
        let s = maxNorm / (norm + 1e-6)
        for p in params { if let g = p.grad { for j in 0..<g.count { g.data[j] *= s } } }
    }
    return norm
}

/// Learning rate as a function of the epoch (or step).
///
///     opt.learningRate = LRSchedule.cosine(total: 10, minimum: 1e-5).rate(base: 1e-3, at: epoch)
public enum LRSchedule: Equatable {
    case constant
    /// Multiply by `gamma` every `every` epochs.
    case step(every: Int, gamma: Float)
    /// Cosine decay from base to `minimum` over `total` epochs.
    case cosine(total: Int, minimum: Float)

    public func rate(base: Float, at epoch: Int) -> Float {
        switch self {
        case .constant: return base
        case .step(let every, let gamma): return base * Foundation.pow(gamma, Float(epoch / max(every, 1)))
        case .cosine(let total, let minimum):
            let t = Float(min(epoch, total)) / Float(max(total, 1))
            return minimum + (base - minimum) * 0.5 * (1 + Foundation.cos(Float.pi * t))
        }
    }
}

// Weight initialisers. fanIn/fanOut follow PyTorch: for a conv weight [out, in, kh, kw],
// fanIn = in·kh·kw and fanOut = out·kh·kw; for a ConvTranspose weight [in, out, kh, kw] PyTorch
// computes fanIn from dim 1, which we mirror so PyTorch-default init matches.
import Foundation
import Tensor

public enum Initializer {
    /// PyTorch's default for Linear/Conv: kaiming_uniform(a=√5) ⇒ U(−1/√fanIn, 1/√fanIn).
    case pytorchDefault
    /// He/Kaiming normal, std = √(2/fanIn) (for ReLU nets).
    case heNormal
    /// He/Kaiming uniform, bound = √(6/fanIn).
    case heUniform
    /// Glorot/Xavier uniform, bound = √(6/(fanIn+fanOut)).
    case glorotUniform
    /// Normal(0, std) (DCGAN uses 0.02).
    case normal(std: Float)
    case zeros

    public func make(_ shape: [Int], fanIn: Int, fanOut: Int, rng: inout SeededRandom) -> Tensor {
        let fi = Float(max(fanIn, 1)), fo = Float(max(fanOut, 1))
        switch self {
        case .pytorchDefault:
            let b = 1 / fi.squareRoot()
            return .uniform(shape, low: -b, high: b, using: &rng)
        case .heNormal: return .normal(shape, std: (2 / fi).squareRoot(), using: &rng)
        case .heUniform:
            let b = (6 / fi).squareRoot()
            return .uniform(shape, low: -b, high: b, using: &rng)
        case .glorotUniform:
            let b = (6 / (fi + fo)).squareRoot()
            return .uniform(shape, low: -b, high: b, using: &rng)
        case .normal(let std): return .normal(shape, std: std, using: &rng)
        case .zeros: return .zeros(shape)
        }
    }
}

/// A parameter tensor: requires gradients.
func parameter(_ t: Tensor) -> Tensor {
    t.requiresGrad = true
    return t
}

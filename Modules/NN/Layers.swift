// The standard layers. Parameter names and layouts are PyTorch's (Linear.weight is [out, in],
// Conv2d.weight [out, in, kh, kw], ConvTranspose2d.weight [in, out, kh, kw]).
import Tensor

/// Fully connected layer: y = x·Wᵀ + b, W: [out, in].
///
///     let fc = Dense(784, 64, seed: 1); let y = fc(x)
public final class Dense: Layer {
    public let weight: Tensor, bias: Tensor?
    /// Cached Wᵀ is not kept: matmul with a transposed operand is absorbed by GEMM packing.
    public init(
        _ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, initializer: Initializer = .pytorchDefault,
        seed: UInt64 = 0
    ) {
        var rng = SeededRandom(seed: seed)
        weight = parameter(
            initializer.make([outFeatures, inFeatures], fanIn: inFeatures, fanOut: outFeatures, rng: &rng))
        self.bias =
            bias
            ? parameter(
                Initializer.pytorchDefault.make(
                    [outFeatures], fanIn: inFeatures, fanOut: outFeatures,
                    rng: &rng)) : nil
    }
    public var ownParameters: [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.linear(weight, bias: bias) }
}

/// 2-D convolution layer (optionally with fused ReLU).
public final class Conv2D: Layer {
    public let weight: Tensor, bias: Tensor?
    public let stride: Int, padding: Int, relu: Bool
    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        bias: Bool = true, relu: Bool = false, initializer: Initializer = .pytorchDefault, seed: UInt64 = 0
    ) {
        var rng = SeededRandom(seed: seed)
        let k2 = kernelSize * kernelSize
        weight = parameter(
            initializer.make(
                [outChannels, inChannels, kernelSize, kernelSize],
                fanIn: inChannels * k2, fanOut: outChannels * k2, rng: &rng))
        self.bias =
            bias
            ? parameter(
                Initializer.pytorchDefault.make(
                    [outChannels], fanIn: inChannels * k2,
                    fanOut: outChannels * k2, rng: &rng)) : nil
        self.stride = stride
        self.padding = padding
        self.relu = relu
    }
    public var ownParameters: [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv2d(weight, bias: bias, stride: stride, padding: padding, relu: relu)
    }
}

/// 2-D transposed convolution layer (DCGAN's upsampler).
public final class ConvTranspose2D: Layer {
    public let weight: Tensor, bias: Tensor?
    public let stride: Int, padding: Int, outputPadding: Int
    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        outputPadding: Int = 0, bias: Bool = true, initializer: Initializer = .pytorchDefault, seed: UInt64 = 0
    ) {
        var rng = SeededRandom(seed: seed)
        let k2 = kernelSize * kernelSize
        weight = parameter(
            initializer.make(
                [inChannels, outChannels, kernelSize, kernelSize],
                fanIn: outChannels * k2, fanOut: inChannels * k2, rng: &rng))
        self.bias =
            bias
            ? parameter(
                Initializer.pytorchDefault.make(
                    [outChannels], fanIn: outChannels * k2,
                    fanOut: inChannels * k2, rng: &rng)) : nil
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
    }
    public var ownParameters: [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.convTranspose2d(weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding)
    }
}

public final class MaxPool2D: Layer {
    public let kernel: Int, stride: Int
    public init(_ kernel: Int, stride: Int? = nil) {
        self.kernel = kernel
        self.stride = stride ?? kernel
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.maxPool2d(kernel, stride: stride) }
}

public final class AvgPool2D: Layer {
    public let kernel: Int, stride: Int
    public init(_ kernel: Int, stride: Int? = nil) {
        self.kernel = kernel
        self.stride = stride ?? kernel
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.avgPool2d(kernel, stride: stride) }
}

/// Batch normalisation over channel axis 1 of [N,C] (BatchNorm1d) or [N,C,H,W] (BatchNorm2d) input.
public final class BatchNorm: Layer {
    public let weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor
    public let momentum: Float, eps: Float
    public private(set) var training = true
    public init(_ channels: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
        weight = parameter(.ones([channels]))
        bias = parameter(.zeros([channels]))
        runningMean = .zeros([channels])
        runningVar = .ones([channels])
        self.momentum = momentum
        self.eps = eps
    }
    public var ownParameters: [(String, Tensor)] { [("weight", weight), ("bias", bias)] }
    public var ownBuffers: [(String, Tensor)] { [("running_mean", runningMean), ("running_var", runningVar)] }
    public func setOwnTraining(_ on: Bool) { training = on }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.batchNorm(
            weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
            training: training && Autograd.isEnabled, momentum: momentum, eps: eps)
    }
}
public typealias BatchNorm1D = BatchNorm
public typealias BatchNorm2D = BatchNorm

/// Inverted dropout, active only in training mode. Its mask stream is seeded.
public final class Dropout: Layer {
    public let p: Float
    public private(set) var training = true
    /// The mask stream; training checkpoints save and restore it.
    public var rng: SeededRandom
    public init(_ p: Float, seed: UInt64 = 0) {
        self.p = p
        rng = SeededRandom(seed: seed)
    }
    public func setOwnTraining(_ on: Bool) { training = on }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.dropout(p, training: training, rng: &rng) }
}

/// Token ids → learned vectors: ids [N, T] (whole numbers stored as Float) → [N, T, D]. Weight [V, D]
/// as PyTorch's nn.Embedding.
public final class Embedding: Layer {
    public let weight: Tensor
    public init(_ vocabulary: Int, _ size: Int, seed: UInt64 = 0) {
        var rng = SeededRandom(seed: seed)
        weight = parameter(Tensor.normal([vocabulary, size], using: &rng))
    }
    public var ownParameters: [(String, Tensor)] { [("weight", weight)] }
    /// Ids outside 0..<V are a caller's bug (tokenizers produce only known ids); they trap in the op.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.embedding(weight, indices: x.scalars.map { Int($0) }, indexShape: x.shape)
    }
}

/// Stacked LSTM or GRU over batch-first sequences, as PyTorch's nn.LSTM / nn.GRU (batch_first=True):
/// parameters weight_ih_l{k} [G·H, in], weight_hh_l{k} [G·H, H], bias_ih_l{k}, bias_hh_l{k} [G·H] with
/// G = 4 gates (i, f, g, o) or 3 (r, z, n), initialised U(−1/√H, 1/√H). Input [N, T, F] with optional
/// lengths; output the last layer's sequence [N, T, H] or each sequence's final state [N, H].
/// Bidirectional (bidirectional=True): each layer also runs over every sequence backwards (parameters
/// …_l{k}_reverse), its outputs concatenated after the forward ones, [N, T, 2H]; the final state is
/// PyTorch's h_n of the last layer, the forward state at each sequence's last frame then the backward
/// one at its first, [N, 2H].
public final class Recurrent: Layer {
    public enum Kind: String, Sendable {
        case lstm, gru
        public var gates: Int { self == .lstm ? 4 : 3 }
    }
    public let kind: Kind, hidden: Int, layers: Int, sequence: Bool, bidirectional: Bool
    /// One entry per layer and direction: layer k's forward weights at 2k (bidirectional) or k, its
    /// backward ones at 2k + 1.
    public let weightsIH: [Tensor], weightsHH: [Tensor], biasesIH: [Tensor], biasesHH: [Tensor]
    var directions: Int { bidirectional ? 2 : 1 }

    public init(
        _ kind: Kind, _ inputSize: Int, hidden: Int, layers: Int = 1, sequence: Bool = false,
        bidirectional: Bool = false, seed: UInt64 = 0
    ) {
        var rng = SeededRandom(seed: seed)
        let bound = 1 / Float(hidden).squareRoot(), g = kind.gates * hidden, directions = bidirectional ? 2 : 1
        func u(_ shape: [Int]) -> Tensor { parameter(Tensor.uniform(shape, low: -bound, high: bound, using: &rng)) }
        var wi: [Tensor] = [], wh: [Tensor] = [], bi: [Tensor] = [], bh: [Tensor] = []
        for k in 0..<layers {
            for _ in 0..<directions {
                wi.append(u([g, k == 0 ? inputSize : directions * hidden]))
                wh.append(u([g, hidden]))
                bi.append(u([g]))
                bh.append(u([g]))
            }
        }
        self.kind = kind
        self.hidden = hidden
        self.layers = layers
        self.sequence = sequence
        self.bidirectional = bidirectional
        weightsIH = wi
        weightsHH = wh
        biasesIH = bi
        biasesHH = bh
    }
    public var ownParameters: [(String, Tensor)] {
        (0..<layers * directions).flatMap { j -> [(String, Tensor)] in
            let suffix = "l\(j / directions)" + (j % directions == 1 ? "_reverse" : "")
            return [
                ("weight_ih_\(suffix)", weightsIH[j]), ("weight_hh_\(suffix)", weightsHH[j]),
                ("bias_ih_\(suffix)", biasesIH[j]), ("bias_hh_\(suffix)", biasesHH[j]),
            ]
        }
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { callAsFunction(x, lengths: nil) }
    /// When set (one per stacked layer), each call starts from the state the previous call ended with.
    public var carriedStates: [RecurrentState]?

    /// Starts (or stops) carrying the state from call to call, from zeros. Forward layers only: a
    /// backward direction starts at the end of the sequence, so there is no earlier call to carry from.
    public func carryState(_ on: Bool) {
        precondition(!(on && bidirectional), "a bidirectional recurrent layer cannot carry its state from call to call")
        carriedStates = on ? (0..<layers).map { _ in RecurrentState() } : nil
    }

    public func callAsFunction(_ x: Tensor, lengths: [Int]?) -> Tensor {
        var h = x
        for k in 0..<layers {
            let seq = k < layers - 1 || sequence
            let forward = run(h, weights: k * directions, lengths: lengths, sequence: seq, state: carriedStates?[k])
            guard bidirectional else {
                h = forward
                continue
            }
            var backward = run(
                h.reversedInTime(lengths: lengths), weights: 2 * k + 1, lengths: lengths, sequence: seq, state: nil)
            if seq { backward = backward.reversedInTime(lengths: lengths) }
            h = Tensor.concat([forward, backward], axis: -1)
        }
        return h
    }

    private func run(_ x: Tensor, weights j: Int, lengths: [Int]?, sequence: Bool, state: RecurrentState?) -> Tensor {
        switch kind {
        case .lstm:
            return x.lstm(
                weightsIH[j], weightsHH[j], biasesIH[j], biasesHH[j], lengths: lengths, sequence: sequence, state: state
            )
        case .gru:
            return x.gru(
                weightsIH[j], weightsHH[j], biasesIH[j], biasesHH[j], lengths: lengths, sequence: sequence, state: state
            )
        }
    }
}

/// [N, ...] → [N, product of the rest].
public final class Flatten: Layer {
    public init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.reshaped([x.shape[0], -1]) }
}

/// A parameter-free activation layer.
public final class Activation: Layer {
    public enum Kind: String, CaseIterable { case relu, leakyReLU = "leaky_relu", sigmoid, tanh }
    public let kind: Kind, slope: Float
    public init(_ kind: Kind, slope: Float = 0.01) {
        self.kind = kind
        self.slope = slope
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch kind {
        case .relu: return x.relu()
        case .leakyReLU: return x.leakyReLU(slope)
        case .sigmoid: return x.sigmoid()
        case .tanh: return x.tanh()
        }
    }
}

/// Layers applied in order; children are named "0", "1", … as in PyTorch's nn.Sequential.
public final class Sequential: Layer {
    public let layers: [Layer]
    public init(_ layers: [Layer]) { self.layers = layers }
    public var children: [(String, Module)] { layers.enumerated().map { ("\($0.offset)", $0.element as Module) } }
    public func callAsFunction(_ x: Tensor) -> Tensor { layers.reduce(x) { $1($0) } }
}

extension Tensor {
    /// x·Wᵀ + b for W: [out, in] — one GEMM with a transposed right operand, bias fused into its output.
    public func linear(_ weight: Tensor, bias: Tensor?) -> Tensor {
        precondition(
            rank == 2 && weight.rank == 2 && shape[1] == weight.shape[1],
            "linear: input \(shape) does not match weight \(weight.shape) ([out, in])")
        let y = matmulTransposed(weight)
        return bias.map { y + $0 } ?? y
    }
}

// A network built from a layer list. Parameterised layers are named like a hand-written PyTorch
// module — conv1, convt1, bn1, fc1, emb1, … — so its checkpoint loads into the same nn.Module
// (scripts/compare-torch.py builds that module from the same list). Conv + bias + ReLU runs as one
// op, and conv + ReLU + max-pool as one where ConvReluPoolFusion says so.
import Foundation
import Tensor
import NN

/// One row of the architecture table.
public struct LayerSummary: Sendable {
    public let name: String
    public let outputShape: [Int]
    public let parameters: Int
    /// Multiply-adds per example, forward.
    public let multiplyAdds: Int
}

public struct NetworkError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "network: \(message)" }
}

public final class Network: Layer {
    /// The whole list, output layer included.
    public let layers: [LayerSpec]
    /// One example's shape: [C, H, W] for images, [T, F] for feature sequences, [T] for token ids.
    public let inputShape: [Int]
    public private(set) var outputShape: [Int] = []
    public private(set) var summary: [LayerSummary] = []
    /// Fewest examples a training batch may hold (2 with a batchnorm after a dense layer: batch
    /// statistics of one value are undefined).
    public private(set) var minimumTrainingBatch = 1

    enum Step {
        case conv(Conv2D, ActivationSpec), convTranspose(ConvTranspose2D, ActivationSpec), conv1d(
            Conv1D, ActivationSpec)
        case pool(max: Bool, Int), bn(BatchNorm), dense(Dense, ActivationSpec), dropout(Dropout)
        case activation(ActivationSpec), flatten, reshape([Int]), embedding(Embedding), recurrent(Recurrent)
        case meanOverTime
        /// A dense layer applied at every step of a sequence [N, T, F].
        case denseEachStep(Dense, ActivationSpec)
        /// conv + ReLU then max-pool, as one fused op.
        case convReluPool(Conv2D)
    }
    var steps: [Step] = []
    var named: [(String, Module)] = []
    var dropouts: [Dropout] = []

    /// Builds the layers in order, checking that each fits the shape before it. Layer k's weights come
    /// from seed·1000003 + k, so a seed gives the same network on every machine.
    public init(layers: [LayerSpec], inputShape: [Int], seed: UInt64) throws {
        self.layers = layers
        self.inputShape = inputShape
        guard !layers.isEmpty else { throw NetworkError("the layer list is empty") }
        guard (1...3).contains(inputShape.count), inputShape.allSatisfy({ LayerLimits.inputDimension.contains($0) })
        else {
            throw NetworkError(
                "input shape \(inputShape) is not 1 to 3 dimensions of 1…\(LayerLimits.inputDimension.upperBound)")
        }
        var b = Builder(shape: inputShape, seed: seed)
        for (i, spec) in layers.enumerated() {
            do {
                try add(spec, &b)
                guard b.elements <= Network.maxValuesPerExample else {
                    throw NetworkError(
                        "its output holds \(b.elements) values per example (\(b.shape)), more than \(Network.maxValuesPerExample)"
                    )
                }
            } catch let e as NetworkError {
                throw NetworkError("layer \(i + 1) (\(spec.json)): \(e.message)")
            }
        }
        outputShape = b.shape
    }

    /// Largest activation (per example) or weight matrix a layer may have: beyond it the arithmetic
    /// of sizes could overflow long before memory runs out.
    public static let maxValuesPerExample = 1 << 31

    /// The numbering and seeding state while layers are added.
    struct Builder {
        var shape: [Int]
        let seed: UInt64
        var counts: [String: Int] = [:]
        var k: UInt64 = 0
        mutating func nextSeed() -> UInt64 {
            k += 1
            return seed &* 1_000_003 &+ k
        }
        mutating func name(_ prefix: String) -> String {
            counts[prefix, default: 0] += 1
            return "\(prefix)\(counts[prefix]!)"
        }
        var elements: Int { shape.reduce(1, *) }
    }

    private func add(_ spec: LayerSpec, _ b: inout Builder) throws {
        let p = try spec.plan(input: b.shape)
        guard p.parameters <= Network.maxValuesPerExample else {
            throw NetworkError("it needs \(p.parameters) parameters, more than \(Network.maxValuesPerExample)")
        }
        let inShape = b.shape
        var module: Module?
        var label: String
        switch spec {
        case .conv(let c):
            let conv = Conv2D(
                inShape[0], c.filters, kernelSize: c.size, stride: c.stride, padding: c.padding, bias: c.bias,
                relu: c.activation.kind == .relu, seed: b.nextSeed())
            label = b.name("conv")
            steps.append(.conv(conv, c.activation))
            named.append((label, conv))
            module = conv
            label += " \(c.size)×\(c.size)/\(c.stride) \(c.activation.kind.rawValue)"
        case .convTranspose(let c):
            let conv = ConvTranspose2D(
                inShape[0], c.filters, kernelSize: c.size, stride: c.stride, padding: c.padding,
                outputPadding: c.outputPadding, bias: c.bias, seed: b.nextSeed())
            label = b.name("convt")
            steps.append(.convTranspose(conv, c.activation))
            named.append((label, conv))
            module = conv
            label += " \(c.size)×\(c.size)/\(c.stride) \(c.activation.kind.rawValue)"
        case .conv1d(let c):
            let conv = Conv1D(
                inShape[1], c.filters, kernelSize: c.size, stride: c.stride, padding: c.padding, bias: c.bias,
                seed: b.nextSeed())
            label = b.name("conv1d_")
            steps.append(.conv1d(conv, c.activation))
            named.append((label, conv))
            module = conv
            label += " \(c.size)/\(c.stride) \(c.activation.kind.rawValue)"
        case .maxpool(let size), .avgpool(let size):
            var isMax = false
            if case .maxpool = spec { isMax = true }
            if isMax, case .conv(let c, let a)? = steps.last, a.kind == .relu, c.weight.shape[2] == c.weight.shape[3],
                ConvReluPoolFusion.applies(kernelSize: c.weight.shape[2], stride: c.stride, poolSize: size)
            {
                steps[steps.count - 1] = .convReluPool(c)
            } else {
                steps.append(.pool(max: isMax, size))
            }
            label = "\(isMax ? "maxpool" : "avgpool") \(size)"
        case .batchnorm:
            let bn = BatchNorm(inShape[0])
            label = b.name("bn")
            steps.append(.bn(bn))
            named.append((label, bn))
            module = bn
            // Batch statistics need two values per channel: a BatchNorm1d needs two examples.
            let perExample = inShape.dropFirst().reduce(1, *)
            minimumTrainingBatch = Swift.max(minimumTrainingBatch, (2 + perExample - 1) / perExample)
        case let .dense(units, a, bias):
            // Images are flattened first; a sequence [T, F] gets the layer at every step.
            if inShape.count == 3 { steps.append(.flatten) }
            let d = Dense(inShape.count == 2 ? inShape[1] : b.elements, units, bias: bias, seed: b.nextSeed())
            label = b.name("fc")
            steps.append(inShape.count == 2 ? .denseEachStep(d, a) : .dense(d, a))
            named.append((label, d))
            module = d
            label += " \(a.kind.rawValue)"
        case .dropout(let rate):
            let d = Dropout(Float(rate), seed: b.nextSeed())
            steps.append(.dropout(d))
            dropouts.append(d)
            label = "dropout \(rate)"
        case .activation(let a):
            steps.append(.activation(a))
            label = a.kind.rawValue
        case .flatten:
            steps.append(.flatten)
            label = "flatten"
        case .meanOverTime:
            steps.append(.meanOverTime)
            label = "mean over time"
        case .reshape(let s):
            steps.append(.reshape(s))
            label = "reshape"
        case let .embedding(v, d):
            let e = Embedding(v, d, seed: b.nextSeed())
            label = b.name("emb")
            steps.append(.embedding(e))
            named.append((label, e))
            module = e
        case .recurrent(let r):
            let l = Recurrent(
                r.kind, inShape[1], hidden: r.hidden, layers: r.layers, sequence: r.sequence,
                bidirectional: r.bidirectional, seed: b.nextSeed())
            // Named as a module holding an nn.LSTM / nn.GRU would be: the first "lstm" (lstm.weight_ih_l0, …),
            // then lstm2, lstm3.
            label = b.name(r.kind.rawValue)
            if label == r.kind.rawValue + "1" { label = r.kind.rawValue }
            steps.append(.recurrent(l))
            named.append((label, l))
            module = l
            label += " \(r.layers)×\(r.hidden)" + (r.bidirectional ? " bidirectional" : "")
        }
        b.shape = p.output
        summary.append(
            LayerSummary(
                name: label, outputShape: p.output, parameters: module?.parameterCount ?? 0,
                multiplyAdds: p.multiplyAdds))
    }

    public var children: [(String, Module)] { named }

    /// Dropout layers have no parameters, so they are not named children; switch them here.
    public func setOwnTraining(_ training: Bool) {
        for d in dropouts { d.setOwnTraining(training) }
    }

    /// The random streams of the dropout layers, in layer order (saved by training checkpoints).
    public var randomStates: [SeededRandom] {
        get { dropouts.map { $0.rng } }
        set { for (d, r) in zip(dropouts, newValue) { d.rng = r } }
    }

    /// Recurrent layers start each call from the state the previous call ended with (on), or from zeros
    /// (off, the default). Text is trained and generated this way; turning it on again resets the state.
    public func carryRecurrentState(_ on: Bool) {
        for case .recurrent(let l) in steps { l.carryState(on) }
    }

    /// Outputs [N] + outputShape for inputs [N] + inputShape.
    public func callAsFunction(_ x: Tensor) -> Tensor { callAsFunction(x, lengths: nil) }

    /// The same for padded sequences: `lengths` gives each example's true number of steps, so recurrent
    /// layers read each sequence's state at its own last frame.
    public func callAsFunction(_ x: Tensor, lengths: [Int]?) -> Tensor { run(x, lengths: lengths, steps: steps[...]) }

    /// What the last layer receives: a classifier's penultimate features (Fréchet distances are measured
    /// on them).
    public func penultimate(_ x: Tensor) -> Tensor { run(x, lengths: nil, steps: steps.dropLast()) }

    func run(_ x: Tensor, lengths: [Int]?, steps: ArraySlice<Step>) -> Tensor {
        var h = x, lengths = lengths
        for s in steps {
            switch s {
            case .conv(let c, let a):
                h = c(h)
                if a.kind != .relu { h = h.activated(a) }
            case .convTranspose(let c, let a): h = c(h).activated(a)
            case .conv1d(let c, let a):
                // Frames after each sequence's new end are zeroed after the activation, as if it were alone.
                h = c(h).activated(a)
                if let l = lengths {
                    lengths = c.outputLengths(l)
                    h = h.zeroedBeyond(lengths: lengths!)
                }
            case .pool(let isMax, let size): h = isMax ? h.maxPool2d(size) : h.avgPool2d(size)
            case .convReluPool(let c): h = h.conv2dReluMaxPool2(c.weight, bias: c.bias, padding: c.padding)
            case .bn(let b): h = b(h)
            case .flatten: h = h.reshaped([h.shape[0], -1])
            case .meanOverTime: h = h.meanOverTime(lengths: lengths)
            case .reshape(let s): h = h.reshaped([h.shape[0]] + s)
            case .dense(let d, let a): h = d(h).activated(a)
            case .denseEachStep(let d, let a):
                let (n, t) = (h.shape[0], h.shape[1])
                h = d(h.reshaped([n * t, h.shape[2]])).activated(a).reshaped([n, t, -1])
            case .dropout(let d): h = d(h)
            case .activation(let a): h = h.activated(a)
            case .embedding(let e): h = e(h)
            case .recurrent(let l): h = l(h, lengths: lengths)
            }
        }
        return h
    }

    /// Darknet-style table: layer, output shape, parameters, FLOPs.
    public func summaryTable() -> String {
        var lines = ["layer                         output          params      MFLOPs"]
        for s in summary {
            let shape = s.outputShape.map(String.init).joined(separator: "×")
            lines.append(
                s.name.padded(30) + shape.padded(16) + String(s.parameters).leftPadded(8)
                    + String(format: "%12.3f", Double(2 * s.multiplyAdds) / 1e6))
        }
        let p = summary.reduce(0) { $0 + $1.parameters }, f = summary.reduce(0) { $0 + $1.multiplyAdds }
        lines.append(
            "total".padded(46) + String(p).leftPadded(8) + String(format: "%12.3f", Double(2 * f) / 1e6)
                + "  (per example, forward)")
        return lines.joined(separator: "\n")
    }
}

extension Tensor {
    /// Applies an activation layer's function.
    public func activated(_ a: ActivationSpec) -> Tensor {
        switch a.kind {
        case .none: return self
        case .relu: return relu()
        case .leakyReLU: return leakyReLU(Float(a.slope))
        case .sigmoid: return sigmoid()
        case .tanh: return tanh()
        }
    }
}

extension String {
    func padded(_ n: Int) -> String { padding(toLength: Swift.max(n, count), withPad: " ", startingAt: 0) }
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}

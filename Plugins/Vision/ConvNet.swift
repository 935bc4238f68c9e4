// A classifier built from a layer list. Parameterised layers are named like a hand-written PyTorch
// module — conv1, conv2, bn1, fc1, fc2 — so the checkpoint loads into the same nn.Module
// (see scripts/compare-torch.py). Conv+bias+ReLU runs as one fused op.
import Foundation
import Tensor
import NN

public final class ConvNet: Layer {
    public let specs: [LayerSpec]
    public let inputShape: [Int]          // [C, H, W]
    public let classes: Int
    enum Step {
        case conv(Conv2D, String), pool(max: Bool, Int), bn(BatchNorm), dense(Dense, String), dropout(Dropout), flatten
        /// conv 3×3 + ReLU then 2×2 max-pool, run as one fused op.
        case convReluPool(Conv2D)
    }
    var steps: [Step] = []
    var named: [(String, Module)] = []
    /// Per layer: description, output shape, parameter count, multiply-add FLOPs per image.
    public private(set) var summary: [(String, [Int], Int, Int)] = []

    public init(specs: [LayerSpec], inputShape: [Int], classes: Int, seed: UInt64) throws {
        self.specs = specs; self.inputShape = inputShape; self.classes = classes
        var shape = inputShape
        var nConv = 0, nFC = 0, nBN = 0, k: UInt64 = 0
        var flat = false
        func next() -> UInt64 { k += 1; return seed &* 1_000_003 &+ k }
        for s in specs + [.dense(units: classes, activation: "none")] {
            switch s {
            case let .conv(f, size, stride, pad, act):
                guard !flat else { throw VisionError.architecture("conv after dense: convolutions must come first") }
                let oh = (shape[1] + 2 * pad - size) / stride + 1, ow = (shape[2] + 2 * pad - size) / stride + 1
                guard shape[1] + 2 * pad >= size, shape[2] + 2 * pad >= size, oh > 0, ow > 0 else {
                    throw VisionError.architecture("conv \(size)×\(size) does not fit a \(shape[1])×\(shape[2]) input")
                }
                nConv += 1
                let c = Conv2D(shape[0], f, kernelSize: size, stride: stride, padding: pad, relu: act == "relu", seed: next())
                steps.append(.conv(c, act)); named.append(("conv\(nConv)", c))
                let params = c.parameterCount
                shape = [f, oh, ow]
                summary.append(("conv\(nConv) \(size)×\(size)/\(stride) \(act)", shape, params, oh * ow * f * c.weight.count / f))
            case let .maxpool(size), let .avgpool(size):
                guard !flat, shape[1] >= size, shape[2] >= size else { throw VisionError.architecture("pool \(size) does not fit \(shape)") }
                var isMax = false
                if case .maxpool = s { isMax = true }
                if isMax && size == 2, case .conv(let c, "relu")? = steps.last,
                   c.weight.shape[2] == 3, c.weight.shape[3] == 3, c.stride == 1 {
                    steps[steps.count - 1] = .convReluPool(c)
                } else {
                    steps.append(.pool(max: isMax, size))
                }
                shape = [shape[0], shape[1] / size, shape[2] / size]
                summary.append(("\(isMax ? "maxpool" : "avgpool") \(size)", shape, 0, 0))
            case .batchnorm:
                nBN += 1
                let b = BatchNorm(shape[0])
                steps.append(.bn(b)); named.append(("bn\(nBN)", b))
                summary.append(("bn\(nBN)", shape, b.parameterCount, 0))
            case let .dense(units, act):
                if !flat { steps.append(.flatten); flat = true; shape = [shape.reduce(1, *)] }
                nFC += 1
                let d = Dense(shape[0], units, seed: next())
                steps.append(.dense(d, act)); named.append(("fc\(nFC)", d))
                summary.append(("fc\(nFC) \(act)", [units], d.parameterCount, shape[0] * units))
                shape = [units]
            case let .dropout(rate):
                let d = Dropout(Float(rate), seed: next())
                steps.append(.dropout(d))
                summary.append(("dropout \(rate)", shape, 0, 0))
            }
        }
    }

    public var children: [(String, Module)] { named }

    /// Dropout layers have no parameters, so they are not named children; switch them here.
    public func setOwnTraining(_ training: Bool) {
        isTraining = training
        for case .dropout(let d) in steps { d.setOwnTraining(training) }
    }
    private var isTraining = true

    /// Images per slice when a large batch is classified: a slice's activations stay in the caches
    /// from layer to layer (256 digits at once sent every layer's output out to DRAM and back; slices
    /// of 32 measured 1.1× faster). Training never slices: batch norm needs the whole batch.
    static let inferenceSlice = 32

    /// Logits [N, classes] for images [N, C, H, W].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let n = x.shape[0], slice = ConvNet.inferenceSlice
        if n == 1 && !isTraining && !Autograd.isEnabled {
            // One image is ~85 µs of work on one core. Split over two, it measured 73–78 µs on a VM whose
            // vCPUs shared data cheaply and 166–177 µs when they did not (the same VM, minutes apart).
            return Parallel.serially { forward(x) }
        }
        if n > slice && !isTraining && !Autograd.isEnabled {
            let out = Tensor(uninitialized: [n, classes])
            for i0 in stride(from: 0, to: n, by: slice) {
                let part = forward(x.slice(i0..<Swift.min(n, i0 + slice)))
                (out.data + i0 * classes).update(from: part.data, count: part.count)
            }
            return out
        }
        return forward(x)
    }

    private func forward(_ x: Tensor) -> Tensor {
        var h = x
        for s in steps {
            switch s {
            case .conv(let c, let act):
                h = c(h)
                if act != "relu" { h = activate(h, act) }
            case .pool(let isMax, let size): h = isMax ? h.maxPool2d(size) : h.avgPool2d(size)
            case .convReluPool(let c): h = h.conv2dReluMaxPool2(c.weight, bias: c.bias, padding: c.padding)
            case .bn(let b): h = b(h)
            case .flatten: h = h.reshaped([h.shape[0], -1])
            case .dense(let d, let act): h = activate(d(h), act)
            case .dropout(let d): h = d(h)
            }
        }
        return h
    }

    func activate(_ h: Tensor, _ act: String) -> Tensor {
        switch act {
        case "relu": return h.relu()
        case "leaky_relu": return h.leakyReLU(0.01)
        case "tanh": return h.tanh()
        case "sigmoid": return h.sigmoid()
        default: return h
        }
    }

    /// Darknet-style table: layer, output shape, parameters, FLOPs.
    public func summaryTable() -> String {
        var lines = ["layer                         output          params      MFLOPs"]
        var tp = 0, tf = 0
        for (name, shape, p, f) in summary {
            let s = shape.map(String.init).joined(separator: "×")
            lines.append(name.padding(toLength: 30, withPad: " ", startingAt: 0) + s.padding(toLength: 16, withPad: " ", startingAt: 0)
                         + String(p).leftPad(8) + String(format: "%12.3f", Double(2 * f) / 1e6))
            tp += p; tf += f
        }
        lines.append("total".padding(toLength: 46, withPad: " ", startingAt: 0) + String(tp).leftPad(8)
                     + String(format: "%12.3f", Double(2 * tf) / 1e6) + "  (per image, forward)")
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}

public enum VisionError: Error, CustomStringConvertible {
    case architecture(String)
    case model(String)
    public var description: String {
        switch self { case .architecture(let s): return "network: \(s)"; case .model(let s): return s }
    }
}

// What each layer does to the shape of one example, and what it costs — worked out without allocating
// anything, so the builder and the memory estimate share one set of rules, and a network too large for
// the machine is refused before a single weight exists.
import Foundation
import Tensor

/// One layer's effect on one example.
public struct LayerPlan: Equatable {
    public let output: [Int]
    public let parameters: Int
    public let multiplyAdds: Int
}

extension LayerSpec {
    /// The output shape, parameter count and multiply-adds for an example of `input` shape.
    public func plan(input s: [Int]) throws -> LayerPlan {
        func count(_ dims: [Int]) -> Int {
            dims.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        }
        let elements = count(s)
        switch self {
        case .conv(let c):
            guard s.count == 3 else {
                throw NetworkError("conv needs a [C, H, W] input, got \(s) (add '- reshape: [C, H, W]')")
            }
            guard s[1] + 2 * c.padding >= c.size, s[2] + 2 * c.padding >= c.size else {
                throw NetworkError("conv \(c.size)×\(c.size) does not fit a \(s[1])×\(s[2]) input")
            }
            let oh = (s[1] + 2 * c.padding - c.size) / c.stride + 1, ow = (s[2] + 2 * c.padding - c.size) / c.stride + 1
            let weights = count([c.filters, s[0], c.size, c.size])
            return LayerPlan(
                output: [c.filters, oh, ow], parameters: weights + (c.bias ? c.filters : 0),
                multiplyAdds: count([oh, ow, weights]))
        case .convTranspose(let c):
            guard s.count == 3 else {
                throw NetworkError("conv_transpose needs a [C, H, W] input, got \(s) (add '- reshape: [C, H, W]')")
            }
            let oh = (s[1] - 1) * c.stride - 2 * c.padding + c.size + c.outputPadding
            let ow = (s[2] - 1) * c.stride - 2 * c.padding + c.size + c.outputPadding
            guard oh > 0, ow > 0 else {
                throw NetworkError("conv_transpose gives an empty output for a \(s[1])×\(s[2]) input")
            }
            let weights = count([s[0], c.filters, c.size, c.size])
            return LayerPlan(
                output: [c.filters, oh, ow], parameters: weights + (c.bias ? c.filters : 0),
                multiplyAdds: count([s[1], s[2], weights]))
        case .conv1d(let c):
            guard s.count == 2 else { throw NetworkError("conv1d needs a sequence [T, C], got \(s)") }
            let frames = Tensor.timeConvLength(s[0], kernel: c.size, stride: c.stride, padding: c.padding)
            let weights = count([c.filters, s[1], c.size])
            return LayerPlan(
                output: [frames, c.filters], parameters: weights + (c.bias ? c.filters : 0),
                multiplyAdds: count([frames, weights]))
        case .maxpool(let size), .avgpool(let size):
            guard s.count == 3, s[1] >= size, s[2] >= size else {
                throw NetworkError("pool \(size) needs a [C, H, W] input of at least \(size)×\(size), got \(s)")
            }
            return LayerPlan(output: [s[0], s[1] / size, s[2] / size], parameters: 0, multiplyAdds: 0)
        case .batchnorm:
            guard s.count == 3 || s.count == 1 else {
                throw NetworkError("batchnorm needs [C, H, W] or [features], got \(s)")
            }
            return LayerPlan(output: s, parameters: 2 * s[0], multiplyAdds: 0)
        case let .dense(units, _, bias) where s.count == 2:
            // A sequence [T, F]: the same dense layer at every step, as nn.Linear on the last axis.
            let weights = count([s[1], units])
            return LayerPlan(
                output: [s[0], units], parameters: weights == Int.max ? Int.max : weights + (bias ? units : 0),
                multiplyAdds: count([s[0], weights]))
        case let .dense(units, _, bias):
            let weights = count([elements, units])
            return LayerPlan(
                output: [units], parameters: weights == Int.max ? Int.max : weights + (bias ? units : 0),
                multiplyAdds: weights)
        case .dropout, .activation:
            return LayerPlan(output: s, parameters: 0, multiplyAdds: 0)
        case .meanOverTime:
            guard s.count == 2 else {
                throw NetworkError(
                    "mean_over_time needs a sequence [T, F], got \(s) (give the lstm/gru sequence: true)")
            }
            return LayerPlan(output: [s[1]], parameters: 0, multiplyAdds: 0)
        case .flatten:
            return LayerPlan(output: [elements], parameters: 0, multiplyAdds: 0)
        case .reshape(let r):
            guard count(r) == elements else {
                throw NetworkError("reshape to \(r) needs \(count(r)) values, the input has \(elements) (\(s))")
            }
            return LayerPlan(output: r, parameters: 0, multiplyAdds: 0)
        case let .embedding(v, d):
            guard s.count == 1 else { throw NetworkError("embedding needs token ids [T], got \(s)") }
            return LayerPlan(output: [s[0], d], parameters: count([v, d]), multiplyAdds: 0)
        case .recurrent(let r):
            guard s.count == 2 else { throw NetworkError("\(r.kind.rawValue) needs a sequence [T, F], got \(s)") }
            let g = r.kind.gates * r.hidden, directions = r.bidirectional ? 2 : 1
            let params = directions * (g * (s[1] + r.hidden + 2) + (r.layers - 1) * g * (r.outputSize + r.hidden + 2))
            return LayerPlan(
                output: r.sequence ? [s[0], r.outputSize] : [r.outputSize], parameters: params,
                multiplyAdds: count([s[0], params]))
        }
    }
}

/// Memory a network needs, from its plan.
public struct MemoryEstimate: Equatable {
    /// Parameters (weights and biases).
    public let parameters: Int
    /// Values all layers output for one example.
    public let activationsPerExample: Int

    /// Bytes to train with `batch` examples per step: each parameter with its gradient and two
    /// optimizer moments, each activation with its gradient and scratch.
    public func trainingBytes(batch: Int) -> Int {
        saturating(4 * 4, parameters) &+ saturating(4 * 3 * batch, activationsPerExample)
    }

    func saturating(_ a: Int, _ b: Int) -> Int {
        let (p, o) = a.multipliedReportingOverflow(by: b)
        return o ? Int.max / 2 : p
    }

    /// The whole list's estimate for an example of `input` shape.
    public static func of(_ layers: [LayerSpec], input: [Int]) throws -> MemoryEstimate {
        var shape = input, params = 0, acts = 0
        for (i, l) in layers.enumerated() {
            let p: LayerPlan
            do { p = try l.plan(input: shape) } catch let e as NetworkError {
                throw NetworkError("layer \(i + 1) (\(l.json)): \(e.message)")
            }
            params = params > Int.max / 2 || p.parameters > Int.max / 2 ? Int.max / 2 : params + p.parameters
            let out = p.output.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max / 2 : $0 * $1 }
            acts = min(Int.max / 2, acts + out)
            shape = p.output
        }
        return MemoryEstimate(parameters: params, activationsPerExample: acts)
    }

    /// Refuses training that would need more than `limit` bytes, with the estimate in the message.
    public func checkTraining(batch: Int, limit: Int) throws {
        let need = trainingBytes(batch: batch)
        guard need <= limit else {
            throw NetworkError(
                String(
                    format:
                        "training needs about %@ (%@ parameters, %@ activation values per example × batch %d), more than the memory limit of %@; make the network smaller, lower batch_size, or raise max_memory_mb",
                    bytesText(need), countText(parameters), countText(activationsPerExample), batch, bytesText(limit)))
        }
    }
}

func bytesText(_ b: Int) -> String {
    b >= 1 << 30
        ? String(format: "%.1f GB", Double(b) / Double(1 << 30))
        : String(format: "%.0f MB", Double(b) / Double(1 << 20))
}
func countText(_ n: Int) -> String { n >= 1_000_000 ? String(format: "%.1f M", Double(n) / 1e6) : "\(n)" }

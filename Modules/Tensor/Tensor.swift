// Tensor: an N-d Float32 array, always contiguous (row-major), viewing a shared Storage at an offset.
// Ops that change layout (permute, concat) copy; reshape and batch slicing are views.
// When gradients are recorded, an op's result carries a GradNode (see Autograd.swift).
import Foundation

/// An N-dimensional Float32 tensor with optional gradient.
///
///     let x = Tensor.normal([32, 784], seed: 1); let y = (x.matmul(w) + b).relu()
public final class Tensor {
    public let shape: [Int]
    public let count: Int
    public let storage: Storage
    public let offset: Int
    /// Accumulated gradient (filled by `backward()` for tensors that require it).
    public var grad: Tensor?
    /// Whether ops on this tensor record gradients. Parameters set it; op results inherit it.
    public var requiresGrad: Bool
    /// How this tensor was computed, when gradients are being recorded.
    var node: GradNode?

    /// Wraps existing storage (a view). `offset + count` must lie inside the storage.
    public init(shape: [Int], storage: Storage, offset: Int = 0, requiresGrad: Bool = false) {
        let n = Tensor.elementCount(shape)
        precondition(
            offset >= 0 && offset + n <= storage.count,
            "Tensor: view \(shape) at \(offset) exceeds storage \(storage.count)")
        self.shape = shape
        self.count = n
        self.storage = storage
        self.offset = offset
        self.requiresGrad = requiresGrad
    }

    /// A new tensor with uninitialised contents (callers fill every element).
    public convenience init(uninitialized shape: [Int]) {
        self.init(shape: shape, storage: Storage(count: Tensor.elementCount(shape)))
    }

    /// A tensor holding `values` in row-major order.
    public convenience init(_ values: [Float], shape: [Int]) {
        precondition(values.count == Tensor.elementCount(shape), "Tensor: \(values.count) values for shape \(shape)")
        self.init(uninitialized: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape {
            precondition(d >= 0, "Tensor: negative dimension in \(shape)")
            n *= d
        }
        return n
    }

    /// Pointer to the first element.
    @inline(__always) public var data: UnsafeMutablePointer<Float> { storage.base + offset }
    public var rank: Int { shape.count }
    /// Copy of the elements as an array (for tests and small outputs; never in hot loops).
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }
    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item: tensor has \(count) elements")
        return data[0]
    }

    /// Row-major strides of the shape.
    public var strides: [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// Element at a multi-index (slow; for tests).
    public subscript(_ index: Int...) -> Float {
        get { data[flatIndex(index)] }
        set { data[flatIndex(index)] = newValue }
    }

    func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) for shape \(shape)")
        var f = 0
        for (i, s) in zip(index, strides) { f += i * s }
        return f
    }

    /// The same values with no gradient history.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage, offset: offset) }

    /// An independent copy of the values (no history).
    public func copy() -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.data.update(from: data, count: count)
        return t
    }

    /// Normalises a possibly negative axis.
    public func axis(_ a: Int) -> Int {
        let r = a < 0 ? a + rank : a
        precondition(r >= 0 && r < rank, "axis \(a) out of range for shape \(shape)")
        return r
    }
}

// MARK: - Creation

extension Tensor {
    public static func zeros(_ shape: [Int]) -> Tensor {
        let n = elementCount(shape)
        return Tensor(shape: shape, storage: Storage(count: n, zeroed: true))
    }
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.data.update(repeating: value, count: t.count)
        return t
    }
    /// 0, 1, …, n-1 (times `step`, plus `start`).
    public static func arange(_ n: Int, start: Float = 0, step: Float = 1) -> Tensor {
        let t = Tensor(uninitialized: [n])
        for i in 0..<n { t.data[i] = start + Float(i) * step }
        return t
    }
    /// Uniform in [low, high). Same seed, same numbers, on every run and machine.
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, seed: UInt64) -> Tensor {
        var rng = SeededRandom(seed: seed)
        return uniform(shape, low: low, high: high, using: &rng)
    }
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, using rng: inout SeededRandom) -> Tensor
    {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count { t.data[i] = low + (high - low) * rng.nextFloat() }
        return t
    }
    /// Normal(mean, std). Same seed, same numbers.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, seed: UInt64) -> Tensor {
        var rng = SeededRandom(seed: seed)
        return normal(shape, mean: mean, std: std, using: &rng)
    }
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, using rng: inout SeededRandom) -> Tensor
    {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count { t.data[i] = mean + std * rng.nextNormal() }
        return t
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(shown)\(count > 8 ? ", …" : "")])"
    }
}

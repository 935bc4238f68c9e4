// Shuffled mini-batches of any payload. A BatchSource knows how to assemble the examples at some
// indices into one batch (images, padded feature sequences, token windows); the loader decides the
// order from a seeded stream and prepares the next batch (augmentation included, the costly part) on
// a background queue while the training loop works on the current one.
import Foundation
import Dispatch
import Tensor
import Media

/// Examples that can be assembled into batches. `batch` runs on a background queue.
public protocol BatchSource {
    associatedtype Batch
    var count: Int { get }
    /// The examples at `indices`, in that order; `rng` drives any augmentation.
    func batch(_ indices: [Int], rng: inout SeededRandom) -> Batch
}

/// One epoch of batches.
///
///     for b in BatchLoader(ImageBatches(images: x, labels: y), batchSize: 32, seed: rng.next()) { … b.x, b.labels … }
public final class BatchLoader<Source: BatchSource>: Sequence, IteratorProtocol {
    let source: Source, batchSize: Int
    let order: [Int]
    var rng: SeededRandom
    var cursor = 0
    let queue = DispatchQueue(label: "dlpipe.batches")
    var pending: (DispatchGroup, Box)?

    final class Box: @unchecked Sendable { var value: Source.Batch? }

    /// The order is a shuffle seeded by `seed` (or the source's own order); `dropLast` leaves out a
    /// last, smaller batch, and a last batch below `minimumBatch` is always left out (a network with
    /// batchnorm after a dense layer cannot train on one example).
    public init(_ source: Source, batchSize: Int, shuffle: Bool = true, seed: UInt64 = 0, dropLast: Bool = false,
                minimumBatch: Int = 1) {
        precondition(batchSize > 0, "BatchLoader: batch size must be positive")
        self.source = source; self.batchSize = batchSize
        var idx = Array(0..<source.count)
        rng = SeededRandom(seed: seed)
        if shuffle { rng.shuffle(&idx) }
        let partial = idx.count % batchSize
        if dropLast || (partial > 0 && partial < minimumBatch) { idx = Array(idx.prefix(idx.count - partial)) }
        order = idx
        prefetch()
    }

    public var batchCount: Int { (order.count + batchSize - 1) / batchSize }

    func prefetch() {
        guard cursor < order.count else { pending = nil; return }
        let range = cursor..<Swift.min(order.count, cursor + batchSize)
        cursor = range.upperBound
        let g = DispatchGroup(), box = Box()
        let seed = rng.next()
        let idx = Array(order[range])
        let work = UnsafeTransfer((source, box))
        queue.async(group: g) {
            var local = SeededRandom(seed: seed)
            let (source, box) = work.value
            box.value = source.batch(idx, rng: &local)
        }
        pending = (g, box)
    }

    public func next() -> Source.Batch? {
        guard let (g, box) = pending else { return nil }
        g.wait()
        let v = box.value
        prefetch()
        return v
    }
}

/// Hands a value to another queue; the loader never touches it while the job runs.
struct UnsafeTransfer<T>: @unchecked Sendable { let value: T; init(_ v: T) { value = v } }

/// Inputs with integer class labels (empty when unlabelled). Padded sequences [B, T, F] carry each
/// one's own length: a recurrent layer reads its state at frame lengths[i] − 1, not after the padding.
public struct LabelledBatch {
    public let x: Tensor
    public let labels: [Int]
    public let lengths: [Int]?
    public init(x: Tensor, labels: [Int], lengths: [Int]? = nil) { self.x = x; self.labels = labels; self.lengths = lengths }
}

/// Images [N, C, H, W] (and labels), optionally augmented image by image.
public struct ImageBatches: BatchSource {
    public typealias Augment = (Image, inout SeededRandom) -> Image
    public let images: Tensor
    public let labels: [Int]
    public let augment: Augment?
    public init(images: Tensor, labels: [Int] = [], augment: Augment? = nil) {
        precondition(labels.isEmpty || labels.count == images.shape[0], "ImageBatches: \(images.shape[0]) images, \(labels.count) labels")
        self.images = images; self.labels = labels; self.augment = augment
    }
    public var count: Int { images.shape[0] }

    public func batch(_ idx: [Int], rng: inout SeededRandom) -> LabelledBatch {
        var shape = images.shape
        shape[0] = idx.count
        let x = Tensor(uninitialized: shape)
        let size = images.count / Swift.max(images.shape[0], 1)
        for (j, i) in idx.enumerated() {
            if let augment {
                let img = Image(tensor: Tensor(shape: Array(shape.dropFirst()), storage: images.storage, offset: images.offset + i * size))
                let t = augment(img, &rng).tensor()
                (x.data + j * size).update(from: t.data, count: size)
            } else {
                (x.data + j * size).update(from: images.data + i * size, count: size)
            }
        }
        return LabelledBatch(x: x, labels: labels.isEmpty ? [] : idx.map { labels[$0] })
    }
}

/// Feature sequences of any lengths, zero-padded to the longest in the batch, optionally augmented
/// sequence by sequence.
public struct SequenceBatches: BatchSource {
    public typealias Augment = (Tensor, inout SeededRandom) -> Tensor
    /// One [T_i, F] tensor per example, F equal for all.
    public let sequences: [Tensor]
    public let labels: [Int]
    public let augment: Augment?
    public init(sequences: [Tensor], labels: [Int] = [], augment: Augment? = nil) {
        precondition(labels.isEmpty || labels.count == sequences.count, "SequenceBatches: \(sequences.count) sequences, \(labels.count) labels")
        precondition(Set(sequences.map { $0.shape.dropFirst() }).count <= 1, "SequenceBatches: feature widths differ")
        self.sequences = sequences; self.labels = labels; self.augment = augment
    }
    public var count: Int { sequences.count }

    public func batch(_ idx: [Int], rng: inout SeededRandom) -> LabelledBatch {
        let chosen = idx.map { i in augment.map { $0(sequences[i], &rng) } ?? sequences[i] }
        return LabelledBatch(x: Self.pad(chosen), labels: labels.isEmpty ? [] : idx.map { labels[$0] }, lengths: chosen.map { $0.shape[0] })
    }

    /// [T_i, F] sequences → [N, max T_i, F], zero after each one's end.
    public static func pad(_ sequences: [Tensor]) -> Tensor {
        let f = sequences.first?.shape.last ?? 0
        let t = sequences.map { $0.shape[0] }.max() ?? 0
        let x = Tensor.zeros([sequences.count, t, f])
        for (j, s) in sequences.enumerated() { (x.data + j * t * f).update(from: s.data, count: s.count) }
        return x
    }
}

/// Windows of a token stream for next-token prediction: inputs [B, T] (ids as whole-number Floats)
/// and targets [B·T], the same windows shifted by one.
public struct TokenBatch {
    public let inputs: Tensor
    public let targets: [Int]
}

public struct TokenBatches: BatchSource {
    public let tokens: [Int32]
    public let window: Int
    /// Windows start every `window` tokens; the last one must leave a token for its final target.
    public init(tokens: [Int32], window: Int) {
        precondition(window > 0, "TokenBatches: window must be positive")
        self.tokens = tokens; self.window = window
    }
    public var count: Int { tokens.count > window ? (tokens.count - 1) / window : 0 }

    public func batch(_ idx: [Int], rng: inout SeededRandom) -> TokenBatch {
        let x = Tensor(uninitialized: [idx.count, window])
        var targets: [Int] = []
        targets.reserveCapacity(idx.count * window)
        for (j, i) in idx.enumerated() {
            let start = i * window
            for k in 0..<window {
                x.data[j * window + k] = Float(tokens[start + k])
                targets.append(Int(tokens[start + k + 1]))
            }
        }
        return TokenBatch(inputs: x, targets: targets)
    }
}

/// A token stream cut into `streams` contiguous parts read side by side, `window` tokens per step: batch k
/// holds window k of every part, so a recurrent network that carries its state from batch to batch
/// (truncated BPTT) reads each part as one long sequence. Use with `BatchLoader(…, batchSize: 1,
/// shuffle: false)`: each "index" is a step. `offset` tokens are skipped first (a different one each
/// epoch cuts the windows at other places).
public struct TokenStreams: BatchSource {
    public let tokens: [Int32]
    public let streams: Int, window: Int, offset: Int
    public init(tokens: [Int32], streams: Int, window: Int, offset: Int = 0) {
        precondition(streams > 0 && window > 0 && offset >= 0, "TokenStreams: streams, window must be positive")
        self.tokens = tokens; self.streams = streams; self.window = window; self.offset = offset
    }
    /// Tokens per stream (each needs one more for its last target).
    var streamLength: Int { Swift.max(0, (tokens.count - offset - 1) / streams) }
    public var count: Int { streamLength / window }

    public func batch(_ idx: [Int], rng: inout SeededRandom) -> TokenBatch {
        precondition(idx.count == 1, "TokenStreams: one step per batch")
        let x = Tensor(uninitialized: [streams, window])
        var targets: [Int] = []
        targets.reserveCapacity(streams * window)
        for r in 0..<streams {
            let start = offset + r * streamLength + idx[0] * window
            for k in 0..<window {
                x.data[r * window + k] = Float(tokens[start + k])
                targets.append(Int(tokens[start + k + 1]))
            }
        }
        return TokenBatch(inputs: x, targets: targets)
    }
}

/// The one place images become a batch tensor [N, C, H, W]; every image must have `shape` [C, H, W].
public enum ImagePacker {
    public struct Mismatch: Error, CustomStringConvertible {
        public let index: Int, found: [Int], expected: [Int]
        public var description: String {
            "image is \(found[2])×\(found[1])×\(found[0]) but the model expects \(expected[2])×\(expected[1])×\(expected[0]) (add image.normalize or image.resize)"
        }
    }

    /// Why `image` cannot go into a batch of `shape`, or nil when it can.
    public static func problem(_ image: Image, shape: [Int]) -> String? {
        let found = [image.channels, image.height, image.width]
        return found == shape ? nil : Mismatch(index: 0, found: found, expected: shape).description
    }

    public static func pack(_ images: [Image], shape: [Int]) throws -> Tensor {
        let size = shape.reduce(1, *)
        let x = Tensor(uninitialized: [images.count] + shape)
        for (i, img) in images.enumerated() {
            let found = [img.channels, img.height, img.width]
            guard found == shape else { throw Mismatch(index: i, found: found, expected: shape) }
            let t = img.tensor()
            (x.data + i * size).update(from: t.data, count: size)
        }
        return x
    }
}

// Shuffled mini-batches of any BatchSource, from a seeded order; the next batch (augmentation included, the
// costly part) is prepared on a background queue while the training loop works on the current one.
import Foundation
import Dispatch
import Tensor
import Media

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
    public init(
        _ source: Source, batchSize: Int, shuffle: Bool = true, seed: UInt64 = 0, dropLast: Bool = false,
        minimumBatch: Int = 1
    ) {
        precondition(batchSize > 0, "BatchLoader: batch size must be positive")
        self.source = source
        self.batchSize = batchSize
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
        guard cursor < order.count else {
            pending = nil
            return
        }
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
struct UnsafeTransfer<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

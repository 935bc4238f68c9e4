// Shuffled mini-batches from an in-memory dataset. The next batch (including augmentation, the costly
// part) is prepared on a background queue while the training loop works on the current one.
import Foundation
import Dispatch
import Tensor

/// Iterates one epoch of batches.
///
///     for (x, y) in BatchLoader(images: ds.images, labels: ds.labels, batchSize: 32, seed: epoch) { ... }
public final class BatchLoader: Sequence, IteratorProtocol {
    public typealias Augment = (Image, inout SeededRandom) -> Image
    let images: Tensor, labels: [Int], batchSize: Int
    let order: [Int]
    let augment: Augment?
    var rng: SeededRandom
    var cursor = 0
    let queue = DispatchQueue(label: "dlpipe.batches")
    var pending: (DispatchGroup, Box)?

    final class Box { var value: (Tensor, [Int])? }

    public init(images: Tensor, labels: [Int], batchSize: Int, shuffle: Bool = true, seed: UInt64 = 0,
                dropLast: Bool = false, augment: Augment? = nil) {
        precondition(images.shape[0] == labels.count, "BatchLoader: \(images.shape[0]) images, \(labels.count) labels")
        precondition(batchSize > 0, "BatchLoader: batch size must be positive")
        self.images = images; self.labels = labels; self.batchSize = batchSize; self.augment = augment
        var idx = Array(0..<labels.count)
        rng = SeededRandom(seed: seed)
        if shuffle { rng.shuffle(&idx) }
        if dropLast { idx = Array(idx.prefix(idx.count / batchSize * batchSize)) }
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
        queue.async(group: g) { [images, labels, augment] in
            var local = SeededRandom(seed: seed)
            box.value = BatchLoader.assemble(images, labels, idx, augment, &local)
        }
        pending = (g, box)
    }

    static func assemble(_ images: Tensor, _ labels: [Int], _ idx: [Int], _ augment: Augment?,
                         _ rng: inout SeededRandom) -> (Tensor, [Int]) {
        var shape = images.shape
        shape[0] = idx.count
        let x = Tensor(uninitialized: shape)
        let size = images.count / Swift.max(images.shape[0], 1)
        for (j, i) in idx.enumerated() {
            if let augment {
                let img = Image(tensor: Tensor(shape: Array(shape.dropFirst()), storage: images.storage,
                                               offset: images.offset + i * size))
                let t = augment(img, &rng).tensor()
                (x.data + j * size).update(from: t.data, count: size)
            } else {
                (x.data + j * size).update(from: images.data + i * size, count: size)
            }
        }
        return (x, idx.map { labels[$0] })
    }

    public func next() -> (Tensor, [Int])? {
        guard let (g, box) = pending else { return nil }
        g.wait()
        let v = box.value
        prefetch()
        return v
    }
}

// Batches of images, optionally augmented image by image.
import Foundation
import Tensor
import Media

/// Images [N, C, H, W] (and labels), optionally augmented image by image.
public struct ImageBatches: BatchSource {
    public typealias Augment = (Image, inout SeededRandom) -> Image
    public let images: Tensor
    public let labels: [Int]
    public let augment: Augment?
    public init(images: Tensor, labels: [Int] = [], augment: Augment? = nil) {
        precondition(
            labels.isEmpty || labels.count == images.shape[0],
            "ImageBatches: \(images.shape[0]) images, \(labels.count) labels")
        self.images = images
        self.labels = labels
        self.augment = augment
    }
    public var count: Int { images.shape[0] }

    public func batch(_ idx: [Int], rng: inout SeededRandom) -> LabelledBatch {
        var shape = images.shape
        shape[0] = idx.count
        let x = Tensor(uninitialized: shape)
        let size = images.count / Swift.max(images.shape[0], 1)
        for (j, i) in idx.enumerated() {
            if let augment {
                let img = Image(
                    tensor: Tensor(
                        shape: Array(shape.dropFirst()), storage: images.storage, offset: images.offset + i * size))
                let t = augment(img, &rng).tensor()
                (x.data + j * size).update(from: t.data, count: size)
            } else {
                (x.data + j * size).update(from: images.data + i * size, count: size)
            }
        }
        return LabelledBatch(x: x, labels: labels.isEmpty ? [] : idx.map { labels[$0] })
    }
}

// Examples that can be assembled into batches: the loader decides the order, the source assembles.
import Foundation
import Tensor

/// Examples that can be assembled into batches. `batch` runs on a background queue.
public protocol BatchSource {
    associatedtype Batch
    var count: Int { get }
    /// The examples at `indices`, in that order; `rng` drives any augmentation.
    func batch(_ indices: [Int], rng: inout SeededRandom) -> Batch
}

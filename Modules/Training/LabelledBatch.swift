// A batch of inputs with their class labels, the unit every classifier trainer consumes.
import Foundation
import Tensor

/// Inputs with integer class labels (empty when unlabelled). Padded sequences [B, T, F] carry each
/// one's own length: a recurrent layer reads its state at frame lengths[i] − 1, not after the padding.
public struct LabelledBatch {
    public let x: Tensor
    public let labels: [Int]
    public let lengths: [Int]?
    public init(x: Tensor, labels: [Int], lengths: [Int]? = nil) {
        self.x = x
        self.labels = labels
        self.lengths = lengths
    }
}

// Batches of feature sequences of any lengths, zero-padded to the longest in each batch.
import Foundation
import Tensor
import Media

/// Feature sequences of any lengths, zero-padded to the longest in the batch, optionally augmented
/// sequence by sequence.
public struct SequenceBatches: BatchSource {
    public typealias Augment = (Tensor, inout SeededRandom) -> Tensor
    /// One [T_i, F] tensor per example, F equal for all.
    public let sequences: [Tensor]
    public let labels: [Int]
    public let augment: Augment?
    public init(sequences: [Tensor], labels: [Int] = [], augment: Augment? = nil) {
        precondition(
            labels.isEmpty || labels.count == sequences.count,
            "SequenceBatches: \(sequences.count) sequences, \(labels.count) labels")
        precondition(Set(sequences.map { $0.shape.dropFirst() }).count <= 1, "SequenceBatches: feature widths differ")
        self.sequences = sequences
        self.labels = labels
        self.augment = augment
    }
    public var count: Int { sequences.count }

    public func batch(_ idx: [Int], rng: inout SeededRandom) -> LabelledBatch {
        let chosen = idx.map { i in augment.map { $0(sequences[i], &rng) } ?? sequences[i] }
        return LabelledBatch(
            x: Self.pad(chosen), labels: labels.isEmpty ? [] : idx.map { labels[$0] },
            lengths: chosen.map { $0.shape[0] })
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

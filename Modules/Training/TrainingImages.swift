// The training images a stage gathered (vision.train, gan.train): checked to share one shape, with their
// classes in natural order, packed once into a tensor, and split into training and validation parts.
import Foundation
import Tensor
import Media
import Pipeline

public struct TrainingImages {
    public let images: [Image]
    public let labels: [String]
    public let files: [String]
    public let classes: [String]
    public let index: [String: Int]
    /// [C, H, W] of every image.
    public let shape: [Int]

    /// `minimumClasses`: a classifier needs 2; a GAN trains on unlabelled images too (labels "").
    public init(_ items: [(image: Image, label: String, file: String)], stage: String, minimumClasses: Int = 2) throws {
        guard let first = items.first?.image else { throw StageError(stage, "no training images arrived") }
        for (img, _, file) in items
        where img.width != first.width || img.height != first.height || img.channels != first.channels {
            throw StageError(
                stage,
                "training images differ in size (\(first.width)×\(first.height)×\(first.channels), and \(img.width)×\(img.height)×\(img.channels) in \(file)); add image.normalize or image.resize"
            )
        }
        images = items.map { $0.image }
        labels = items.map { $0.label }
        files = items.map { $0.file }
        classes = Array(Set(labels)).sorted(by: FileList.naturalOrder)
        guard classes.count >= minimumClasses else {
            throw StageError(
                stage,
                "need at least \(minimumClasses) classes (one sub-folder each), found \(classes.count): \(classes.prefix(5))"
            )
        }
        index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        shape = [first.channels, first.height, first.width]
    }

    /// Which files with which labels, in arrival order: what a checkpoint's data must match.
    public var identity: String { zip(files, labels).map { "\($0)\t\($1)" }.joined(separator: "\n") }

    /// A random `fraction` held out for validation (drawn from `random`; never the test set).
    public func split(validation fraction: Double, random: inout SeededRandom) -> (
        train: LabelledBatch, validation: LabelledBatch
    ) {
        var order = Array(0..<images.count)
        random.shuffle(&order)
        let nVal = Int(Double(images.count) * fraction)
        func part(_ idx: ArraySlice<Int>) -> LabelledBatch {
            // The shapes were checked in init, so packing cannot fail.
            LabelledBatch(
                x: try! ImagePacker.pack(idx.map { images[$0] }, shape: shape), labels: idx.map { index[labels[$0]]! })
        }
        return (part(order.dropFirst(nVal)), part(order.prefix(nVal)))
    }
}

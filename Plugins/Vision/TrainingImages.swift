// The labelled training images a vision.train stage gathered: checked to share one shape, with their
// classes in natural order, packed once into a tensor, and split into training and validation parts.
import Foundation
import Tensor
import Media
import Pipeline
import Training

struct TrainingImages {
    let images: [Image]
    let labels: [String]
    let files: [String]
    let classes: [String]
    let index: [String: Int]
    /// [C, H, W] of every image.
    let shape: [Int]

    init(_ items: [(image: Image, label: String, file: String)], stage: String) throws {
        guard let first = items.first?.image else { throw StageError(stage, "no training images arrived") }
        for (img, _, file) in items where img.width != first.width || img.height != first.height || img.channels != first.channels {
            throw StageError(stage, "training images differ in size (\(first.width)×\(first.height)×\(first.channels), and \(img.width)×\(img.height)×\(img.channels) in \(file)); add image.normalize or image.resize")
        }
        images = items.map { $0.image }; labels = items.map { $0.label }; files = items.map { $0.file }
        classes = Array(Set(labels)).sorted(by: FileList.naturalOrder)
        guard classes.count >= 2 else { throw StageError(stage, "need at least 2 classes, found \(classes)") }
        index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        shape = [first.channels, first.height, first.width]
    }

    /// Which files with which labels, in arrival order: what a checkpoint's data must match.
    var identity: String { zip(files, labels).map { "\($0)\t\($1)" }.joined(separator: "\n") }

    /// A random `fraction` held out for validation (drawn from `random`; never the test set).
    func split(validation fraction: Double, random: inout SeededRandom) -> (train: LabelledBatch, validation: LabelledBatch) {
        var order = Array(0..<images.count)
        random.shuffle(&order)
        let nVal = Int(Double(images.count) * fraction)
        func part(_ idx: ArraySlice<Int>) -> LabelledBatch {
            // The shapes were checked in init, so packing cannot fail.
            LabelledBatch(x: try! ImagePacker.pack(idx.map { images[$0] }, shape: shape), labels: idx.map { index[labels[$0]]! })
        }
        return (part(order.dropFirst(nVal)), part(order.prefix(nVal)))
    }
}

// read.idx: MNIST-format IDX files (e.g. Fashion-MNIST from Debian's dataset-fashion-mnist) as images.
import Foundation
import Media
import Tensor

final class ReadIDX: Stage {
    let opts: StageOptions
    init(_ o: StageOptions) { opts = o }

    static let spec = StageSpec(
        name: "read.idx", summary: "Read IDX image/label files (MNIST, Fashion-MNIST; .gz allowed)",
        consumes: [.none], produces: .image,
        options: [
            OptionSpec("train_images", .path, required: true, doc: "IDX images [N,H,W] for training"),
            OptionSpec("train_labels", .path, required: true, doc: "IDX labels [N] for training"),
            OptionSpec("test_images", .path, doc: "IDX images for the held-out split"),
            OptionSpec("test_labels", .path, doc: "IDX labels for the held-out split"),
            OptionSpec("classes", .stringList, doc: "class names by label index (default: the label numbers)"),
            OptionSpec(
                "limit", .int(0...100_000_000), default: .int(0),
                doc: "read at most this many images per split (0 = all)"),
        ],
        shape: { _, _ in [1, 0, 0] },
        make: { ReadIDX($0) })

    func start(_ ctx: RunContext, emit: Emit) throws {
        let names = opts.strings("classes")
        var splits: [(String, String, Split)] = [(opts.string("train_images"), opts.string("train_labels"), .train)]
        if let ti = opts.optionalString("test_images") {
            guard let tl = opts.optionalString("test_labels") else {
                throw StageError("read.idx", "test_images needs test_labels")
            }
            splits.append((ti, tl, .test))
        }
        for (imgPath, lblPath, split) in splits {
            let (images, labels): (Tensor, [Int])
            do { (images, labels) = try IDX.readImages(imgPath, labels: lblPath) } catch let e as MediaError {
                throw StageError("read.idx", e.description + missingDataHint(e))
            }
            let n = opts.int("limit") > 0 ? min(opts.int("limit"), labels.count) : labels.count
            let h = images.shape[2], w = images.shape[3]
            let task = ctx.progress.task("read.idx \(split.rawValue)", total: n, unit: "images")
            for i in 0..<n {
                if i % 1024 == 0 {
                    try ctx.checkCancelled()
                    task.update(i)
                }
                let px = Array(UnsafeBufferPointer(start: images.data + i * h * w, count: h * w))
                let label = labels[i] < names.count ? names[labels[i]] : String(labels[i])
                try emit(
                    Item(
                        file: "\(imgPath)#\(i)", split: split, label: label,
                        image: Image(width: w, height: h, channels: 1, pixels: px)))
            }
            task.finish(n)
        }
    }
}

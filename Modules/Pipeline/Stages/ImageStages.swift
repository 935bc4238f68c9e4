// image.normalize and image.resize: per-item image transforms.
import Foundation
import Media

final class ImageNormalize: Stage {
    let size: Int
    init(_ o: StageOptions) { size = o.int("size") }
    static let spec = StageSpec(
        name: "image.normalize",
        summary:
            "MNIST-style digit normalisation: gray, light background inverted, ink cropped, 20px box, centred by mass",
        consumes: [.image], produces: .image,
        options: [
            OptionSpec(
                "size", .int(8...512), default: .int(28), doc: "output side length (the digit box is 20/28 of it)")
        ],
        shape: { o, _ in [1, o.int("size"), o.int("size")] },
        serving: .perItem,
        make: { ImageNormalize($0) })
    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        var it = item
        it.image = item.image?.mnistNormalized(size: size, box: max(1, size * 20 / 28))
        if let img = it.image, !img.pixels.contains(where: { $0 > 0 }) {
            try ctx.fail(item.file, "blank image: no ink after normalisation (nothing to recognise)")
            return
        }
        try emit(it)
    }
}

final class ImageResize: Stage {
    let width: Int, height: Int
    init(_ o: StageOptions) {
        width = o.int("width")
        height = o.int("height")
    }
    static let spec = StageSpec(
        name: "image.resize", summary: "Resize images (area averaging when shrinking, bilinear when enlarging)",
        consumes: [.image], produces: .image,
        options: [
            OptionSpec("width", .int(1...16384), required: true, doc: "output width in pixels"),
            OptionSpec("height", .int(1...16384), required: true, doc: "output height in pixels"),
        ],
        shape: { o, input in [input?.first ?? 0, o.int("height"), o.int("width")] },
        serving: .perItem,
        make: { ImageResize($0) })
    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        var it = item
        it.image = item.image?.resized(width: width, height: height)
        try emit(it)
    }
}

// Images into a batch tensor: the one place their shapes are checked and their pixels copied.
import Foundation
import Tensor
import Media

/// The one place images become a batch tensor [N, C, H, W]; every image must have `shape` [C, H, W].
public enum ImagePacker {
    public struct Mismatch: Error, CustomStringConvertible {
        public let index: Int, found: [Int], expected: [Int]
        public var description: String {
            "image is \(found[2])×\(found[1])×\(found[0]) but the model expects \(expected[2])×\(expected[1])×\(expected[0]) (add image.normalize or image.resize)"
        }
    }

    /// Why `image` cannot go into a batch of `shape`, or nil when it can.
    public static func problem(_ image: Image, shape: [Int]) -> String? {
        let found = [image.channels, image.height, image.width]
        return found == shape ? nil : Mismatch(index: 0, found: found, expected: shape).description
    }

    public static func pack(_ images: [Image], shape: [Int]) throws -> Tensor {
        let size = shape.reduce(1, *)
        let x = Tensor(uninitialized: [images.count] + shape)
        for (i, img) in images.enumerated() {
            let found = [img.channels, img.height, img.width]
            guard found == shape else { throw Mismatch(index: i, found: found, expected: shape) }
            let t = img.tensor()
            (x.data + i * size).update(from: t.data, count: size)
        }
        return x
    }
}

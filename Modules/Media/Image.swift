// Image: pixels as Floats in [0,1], interleaved (row-major, channels last), 1 (gray) or 3 (RGB) channels.
import Tensor

/// A decoded image.
///
///     let img = try PNG.read("digit.png", as: .gray); let t = img.tensor()   // [1, H, W]
public struct Image: Equatable {
    public let width: Int, height: Int, channels: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
        precondition(
            pixels.count == width * height * channels,
            "Image: \(pixels.count) values for \(width)×\(height)×\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    public init(width: Int, height: Int, channels: Int = 1, fill: Float = 0) {
        self.init(
            width: width, height: height, channels: channels,
            pixels: [Float](repeating: fill, count: width * height * channels))
    }

    @inline(__always) public subscript(x x: Int, y y: Int, c c: Int = 0) -> Float {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }

    /// Channels-first tensor [C, H, W].
    public func tensor() -> Tensor {
        let t = Tensor(uninitialized: [channels, height, width])
        pixels.withUnsafeBufferPointer { p in
            for c in 0..<channels {
                for i in 0..<width * height { t.data[c * width * height + i] = p[i * channels + c] }
            }
        }
        return t
    }

    /// Rec.601 luminance of an RGB image (a gray image is returned as is).
    public func gray() -> Image {
        if channels == 1 { return self }
        var out = [Float](repeating: 0, count: width * height)
        for i in 0..<width * height {
            out[i] = 0.299 * pixels[3 * i] + 0.587 * pixels[3 * i + 1] + 0.114 * pixels[3 * i + 2]
        }
        return Image(width: width, height: height, channels: 1, pixels: out)
    }

    /// Mean pixel value over all channels.
    public var mean: Float { pixels.isEmpty ? 0 : pixels.reduce(0, +) / Float(pixels.count) }
}

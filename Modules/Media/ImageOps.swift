// Image operations: resizing, MNIST-style normalisation, seeded affine augmentation, montage.
import Foundation
import Tensor

extension Image {
    /// Resized copy: area averaging when shrinking (no aliasing), bilinear when enlarging.
    public func resized(width w: Int, height h: Int) -> Image {
        precondition(w > 0 && h > 0, "resize to \(w)×\(h)")
        if w == width && h == height { return self }
        return (w <= width && h <= height) ? resizedArea(w, h) : resizedBilinear(w, h)
    }

    func resizedArea(_ w: Int, _ h: Int) -> Image {
        var out = Image(width: w, height: h, channels: channels)
        let sx = Double(width) / Double(w), sy = Double(height) / Double(h)
        for y in 0..<h {
            let y0 = Double(y) * sy, y1 = y0 + sy
            for x in 0..<w {
                let x0 = Double(x) * sx, x1 = x0 + sx
                for c in 0..<channels {
                    var s = 0.0, area = 0.0
                    var yy = Int(y0)
                    while Double(yy) < y1 && yy < height {
                        let wy = min(Double(yy + 1), y1) - max(Double(yy), y0)
                        var xx = Int(x0)
                        while Double(xx) < x1 && xx < width {
                            let wx = min(Double(xx + 1), x1) - max(Double(xx), x0)
                            s += Double(self[x: xx, y: yy, c: c]) * wx * wy
                            area += wx * wy
                            xx += 1
                        }
                        yy += 1
                    }
                    out[x: x, y: y, c: c] = Float(area > 0 ? s / area : 0)
                }
            }
        }
        return out
    }

    func resizedBilinear(_ w: Int, _ h: Int) -> Image {
        var out = Image(width: w, height: h, channels: channels)
        for y in 0..<h {
            let fy = (Float(y) + 0.5) * Float(height) / Float(h) - 0.5
            for x in 0..<w {
                let fx = (Float(x) + 0.5) * Float(width) / Float(w) - 0.5
                for c in 0..<channels { out[x: x, y: y, c: c] = sample(fx, fy, c) }
            }
        }
        return out
    }

    /// Bilinear sample at a fractional position; outside the image counts as 0 (black).
    @inline(__always) func sample(_ fx: Float, _ fy: Float, _ c: Int, clampEdges: Bool = true) -> Float {
        let x0 = Int(fx.rounded(.down)), y0 = Int(fy.rounded(.down))
        let ax = fx - Float(x0), ay = fy - Float(y0)
        func px(_ x: Int, _ y: Int) -> Float {
            if clampEdges { return self[x: min(max(x, 0), width - 1), y: min(max(y, 0), height - 1), c: c] }
            return x >= 0 && x < width && y >= 0 && y < height ? self[x: x, y: y, c: c] : 0
        }
        return (1 - ay) * ((1 - ax) * px(x0, y0) + ax * px(x0 + 1, y0)) + ay
            * ((1 - ax) * px(x0, y0 + 1) + ax * px(x0 + 1, y0 + 1))
    }

    /// MNIST-style normalisation of any digit picture: gray; inverted when the background is light;
    /// background removed and contrast stretched; cropped to the ink's bounding box; scaled so the
    /// longer side is 20 px (aspect kept); placed in 28×28 with its centre of mass at the centre.
    ///
    ///     let digit = try PNG.read("photo.png").mnistNormalized()
    public func mnistNormalized(size: Int = 28, box: Int = 20) -> Image {
        var g = gray()
        // Background level from the border (a digit rarely touches all four edges).
        var border: [Float] = []
        for x in 0..<g.width {
            border.append(g[x: x, y: 0])
            border.append(g[x: x, y: g.height - 1])
        }
        for y in 0..<g.height {
            border.append(g[x: 0, y: y])
            border.append(g[x: g.width - 1, y: y])
        }
        border.sort()
        var bg = border[border.count / 2]
        if bg > 0.5 {
            for i in 0..<g.pixels.count { g.pixels[i] = 1 - g.pixels[i] }
            bg = 1 - bg
        }
        let peak = g.pixels.max() ?? 0
        guard peak - bg > 0.05 else { return Image(width: size, height: size) }  // blank: no ink
        for i in 0..<g.pixels.count { g.pixels[i] = max(0, (g.pixels[i] - bg) / (peak - bg)) }
        // Bounding box of the ink.
        var minX = g.width, minY = g.height, maxX = -1, maxY = -1
        for y in 0..<g.height {
            for x in 0..<g.width where g[x: x, y: y] > 0.2 {
                minX = min(minX, x)
                maxX = max(maxX, x)
                minY = min(minY, y)
                maxY = max(maxY, y)
            }
        }
        let cw = maxX - minX + 1, ch = maxY - minY + 1
        var crop = Image(width: cw, height: ch)
        for y in 0..<ch { for x in 0..<cw { crop[x: x, y: y] = g[x: minX + x, y: minY + y] } }
        let scale = Float(box) / Float(max(cw, ch))
        let nw = max(1, Int((Float(cw) * scale).rounded())), nh = max(1, Int((Float(ch) * scale).rounded()))
        let digit = crop.resized(width: nw, height: nh)
        // Centre of mass → centre of the output.
        var m = 0.0, mx = 0.0, my = 0.0
        for y in 0..<nh {
            for x in 0..<nw {
                let v = Double(digit[x: x, y: y])
                m += v
                mx += v * Double(x)
                my += v * Double(y)
            }
        }
        let cx = m > 0 ? mx / m : Double(nw - 1) / 2, cy = m > 0 ? my / m : Double(nh - 1) / 2
        let ox = min(max(Int((Double(size) / 2 - 0.5 - cx).rounded()), 0), size - nw)
        let oy = min(max(Int((Double(size) / 2 - 0.5 - cy).rounded()), 0), size - nh)
        var out = Image(width: size, height: size)
        for y in 0..<nh { for x in 0..<nw { out[x: ox + x, y: oy + y] = min(1, digit[x: x, y: y]) } }
        return out
    }

    /// Random affine transform about the centre (rotation in degrees, shift in pixels, scale factor),
    /// bilinear, black outside. Deterministic for a given generator state.
    public func randomAffine(rotation: Float, shift: Float, scale: ClosedRange<Float>, rng: inout SeededRandom) -> Image
    {
        let angle = (rng.nextFloat() * 2 - 1) * rotation * Float.pi / 180
        let s = scale.lowerBound + (scale.upperBound - scale.lowerBound) * rng.nextFloat()
        let tx = (rng.nextFloat() * 2 - 1) * shift, ty = (rng.nextFloat() * 2 - 1) * shift
        let cosA = Foundation.cos(angle) / s, sinA = Foundation.sin(angle) / s
        let cx = Float(width - 1) / 2, cy = Float(height - 1) / 2
        var out = Image(width: width, height: height, channels: channels)
        for y in 0..<height {
            for x in 0..<width {
                // Inverse map: output pixel → source position.
                let dx = Float(x) - cx - tx, dy = Float(y) - cy - ty
                let sx = cosA * dx + sinA * dy + cx, sy = -sinA * dx + cosA * dy + cy
                for c in 0..<channels { out[x: x, y: y, c: c] = sample(sx, sy, c, clampEdges: false) }
            }
        }
        return out
    }

    /// A grid of equally sized images with `padding` pixels between them (gray or RGB).
    public static func montage(_ images: [Image], columns: Int, padding: Int = 2, background: Float = 0) -> Image {
        precondition(!images.isEmpty && columns > 0, "montage of nothing")
        let w = images[0].width, h = images[0].height, ch = images[0].channels
        precondition(
            images.allSatisfy { $0.width == w && $0.height == h && $0.channels == ch }, "montage: images differ in size"
        )
        let rows = (images.count + columns - 1) / columns
        let cols = min(columns, images.count)
        var out = Image(
            width: cols * w + (cols + 1) * padding, height: rows * h + (rows + 1) * padding,
            channels: ch, fill: background)
        for (i, img) in images.enumerated() {
            let ox = padding + (i % columns) * (w + padding), oy = padding + (i / columns) * (h + padding)
            for y in 0..<h {
                for x in 0..<w { for c in 0..<ch { out[x: ox + x, y: oy + y, c: c] = img[x: x, y: y, c: c] } }
            }
        }
        return out
    }

    /// An image from a [C,H,W] or [H,W] tensor (values clamped on encode, not here).
    public init(tensor t: Tensor) {
        precondition(
            t.rank == 2 || (t.rank == 3 && (t.shape[0] == 1 || t.shape[0] == 3)),
            "Image(tensor:) needs [H,W] or [C,H,W], got \(t.shape)")
        let c = t.rank == 2 ? 1 : t.shape[0], h = t.shape[t.rank - 2], w = t.shape[t.rank - 1]
        var px = [Float](repeating: 0, count: c * h * w)
        for ch in 0..<c { for i in 0..<h * w { px[i * c + ch] = t.data[ch * h * w + i] } }
        self.init(width: w, height: h, channels: c, pixels: px)
    }
}

// Differentiable augmentation of image batches [N, C, H, W] (DiffAugment, Zhao et al. 2020): each image moved
// by whole pixels and a square of it blanked, both filled with `fill` (the background). A GAN's
// discriminator sees real and generated images changed alike, and the generator learns through the change,
// so the discriminator cannot memorise the few real images it has. The gradient goes back to the pixel each
// kept output pixel came from; blanked and filled pixels get none.

/// How one image is changed: moved `dy` rows down and `dx` columns right, then the `size`×`size` square at
/// (`top`, `left`) blanked (size 0: none).
public struct ShiftCutout: Equatable, Sendable {
    public var dy: Int, dx: Int, top: Int, left: Int, size: Int
    public init(dy: Int = 0, dx: Int = 0, top: Int = 0, left: Int = 0, size: Int = 0) {
        self.dy = dy
        self.dx = dx
        self.top = top
        self.left = left
        self.size = size
    }
}

extension Tensor {
    ///     let a = x.shiftedWithCutout([ShiftCutout(dy: 2, dx: -1, top: 5, left: 5, size: 14)], fill: -1)
    public func shiftedWithCutout(_ changes: [ShiftCutout], fill: Float) -> Tensor {
        precondition(rank == 4 && changes.count == shape[0], "shiftedWithCutout: \(changes.count) changes for \(shape)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let x = self, plane = h * w
        /// The source pixel of output (y, x) of image i, or nil when it is filled.
        @inline(__always) func source(_ i: Int, _ y: Int, _ xx: Int) -> Int? {
            let ch = changes[i]
            if ch.size > 0 && y >= ch.top && y < ch.top + ch.size && xx >= ch.left && xx < ch.left + ch.size {
                return nil
            }
            let sy = y - ch.dy, sx = xx - ch.dx
            return sy >= 0 && sy < h && sx >= 0 && sx < w ? sy * w + sx : nil
        }
        let out = Tensor(uninitialized: shape)
        for i in 0..<n {
            for y in 0..<h {
                for xx in 0..<w {
                    let s = source(i, y, xx)
                    for k in 0..<c {
                        let base = (i * c + k) * plane
                        out.data[base + y * w + xx] = s.map { x.data[base + $0] } ?? fill
                    }
                }
            }
        }
        return out.recorded([x]) { _, g in
            let gx = Tensor.zeros(x.shape)
            for i in 0..<n {
                for y in 0..<h {
                    for xx in 0..<w {
                        guard let s = source(i, y, xx) else { continue }
                        for k in 0..<c {
                            let base = (i * c + k) * plane
                            gx.data[base + s] += g.data[base + y * w + xx]
                        }
                    }
                }
            }
            return [gx]
        }
    }
}

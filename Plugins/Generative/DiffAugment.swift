// gan.train's `diff_augment`: the changes each image gets before the discriminator sees it, real and
// generated alike, drawn afresh for every image of every batch (DiffAugment's translation, up to an eighth of
// the side, and cutout, a square of half the side, as in Zhao et al. 2020). With a few thousand real digits
// the discriminator otherwise learns them by heart and stops teaching the generator.
import Tensor
import Pipeline

struct DiffAugment: Equatable {
    enum Policy: String, CaseIterable { case translation, cutout }
    let translation: Bool, cutout: Bool
    /// The images' background value, which moved-in and blanked pixels take (−1: black in −1…1).
    static let fill: Float = -1

    init(_ names: [String]) throws {
        for n in names where Policy(rawValue: n) == nil {
            throw StageError(
                "gan.train",
                "diff_augment: unknown change '\(n)'; use \(Policy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        translation = names.contains(Policy.translation.rawValue)
        cutout = names.contains(Policy.cutout.rawValue)
    }

    var isActive: Bool { translation || cutout }

    /// One change per image of a batch of `count` images of `height`×`width`.
    func draw(count: Int, height: Int, width: Int, random: inout SeededRandom) -> [ShiftCutout] {
        let reachY = translation ? height / 8 : 0, reachX = translation ? width / 8 : 0
        let side = cutout ? Swift.min(height, width) / 2 : 0
        return (0..<count).map { _ in
            var c = ShiftCutout()
            if translation {
                c.dy = random.nextInt(2 * reachY + 1) - reachY
                c.dx = random.nextInt(2 * reachX + 1) - reachX
            }
            if side > 0 {
                // The square's centre anywhere in the image, as DiffAugment's; it may hang over the edge.
                c.size = side
                c.top = random.nextInt(height + side % 2) - side / 2
                c.left = random.nextInt(width + side % 2) - side / 2
            }
            return c
        }
    }

    /// `x` [N, C, H, W] with a fresh change per image.
    func apply(_ x: Tensor, random: inout SeededRandom) -> Tensor {
        x.shiftedWithCutout(
            draw(count: x.shape[0], height: x.shape[2], width: x.shape[3], random: &random), fill: Self.fill)
    }
}

// The Fréchet distance against its closed form for Gaussians whose covariances commute.
import XCTest
import Tensor
@testable import Generative

final class FrechetDistanceTests: XCTestCase {
    /// Samples of N(mean, diag(sd²)) in `dim` dimensions.
    func gaussian(_ n: Int, mean: [Float], sd: [Float], seed: UInt64) -> [Float] {
        var r = SeededRandom(seed: seed)
        var out: [Float] = []
        for _ in 0..<n { for i in 0..<mean.count { out.append(mean[i] + sd[i] * r.nextNormal()) } }
        return out
    }

    func testClosedFormForDiagonalCovariances() {
        // |μa − μb|² + Σ (σa − σb)²  =  1 + (1 − 2)² + (2 − 1)²  =  3
        let a = gaussian(40000, mean: [0, 0], sd: [1, 2], seed: 1),
            b = gaussian(40000, mean: [1, 0], sd: [2, 1], seed: 2)
        XCTAssertEqual(FrechetDistance.between(a, b, dim: 2), 3, accuracy: 0.1)
        XCTAssertEqual(FrechetDistance.between(a, a, dim: 2), 0, accuracy: 1e-6)
    }

    func testRotatedCovarianceAndSquareRoot() {
        // A correlated 3-D set against itself shifted: only the mean term remains.
        var r = SeededRandom(seed: 5)
        var a: [Float] = [], b: [Float] = []
        for _ in 0..<5000 {
            let u = r.nextNormal(), v = r.nextNormal(), w = r.nextNormal()
            let p: [Float] = [u + v, u - 2 * w, 3 * v + w]
            a += p
            b += p.map { $0 + 2 }
        }
        XCTAssertEqual(FrechetDistance.between(a, b, dim: 3), 12, accuracy: 1e-3)
        let m: [Double] = [4, 1, 0, 1, 3, 1, 0, 1, 2]
        let root = FrechetDistance.symmetricSquareRoot(m, 3)
        let back = FrechetDistance.multiply(root, root, 3)
        for i in 0..<9 { XCTAssertEqual(back[i], m[i], accuracy: 1e-9) }
    }
}

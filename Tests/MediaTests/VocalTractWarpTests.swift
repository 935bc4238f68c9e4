// Vocal-tract-length perturbation: the warp is piecewise linear and keeps 0 and Nyquist, and a tone's mel
// peak under a warp α sits where a tone at α·f sits without one.
import XCTest

@testable import Media

final class VocalTractWarpTests: XCTestCase {
    func testTheWarpIsPiecewiseLinearAndKeepsTheBandEdges() {
        let nyquist = 8000.0
        for alpha in [0.8, 0.9, 1.1, 1.2] {
            XCTAssertEqual(VocalTractWarp.warped(0, alpha: alpha, nyquist: nyquist), 0)
            XCTAssertEqual(VocalTractWarp.warped(nyquist, alpha: alpha, nyquist: nyquist), nyquist, accuracy: 1e-9)
            XCTAssertEqual(VocalTractWarp.warped(1000, alpha: alpha, nyquist: nyquist), alpha * 1000, accuracy: 1e-9)
            var last = -1.0
            for f in stride(from: 0.0, through: nyquist, by: 10) {
                let w = VocalTractWarp.warped(f, alpha: alpha, nyquist: nyquist)
                XCTAssertGreaterThan(w, last, "monotonic at \(f) Hz, α \(alpha)")
                last = w
            }
        }
        XCTAssertEqual(VocalTractWarp.warped(1234, alpha: 1, nyquist: nyquist), 1234)
    }

    /// The mel band holding most of a tone's power.
    func peakBand(_ hz: Double, warp: Double) -> Int {
        let sr = 16000
        let y = (0..<sr / 2).map { Float(0.5 * sin(2 * Double.pi * hz * Double($0) / Double(sr))) }
        var s = SpectrogramSettings()
        s.nFFT = 1024
        s.nMels = 64
        s.warp = warp
        let mel = Features.melSpectrogram(y, sampleRate: sr, s)
        let energy = mel.map { $0.reduce(0, +) }
        return energy.indices.max { energy[$0] < energy[$1] }!
    }

    func testAWarpedTonePeaksWhereTheScaledToneDoes() {
        for (f, alpha) in [(1000.0, 1.2), (1500.0, 0.85), (2000.0, 1.15)] {
            let warped = peakBand(f, warp: alpha)
            XCTAssertEqual(warped, peakBand(f * alpha, warp: 1), "\(f) Hz warped by \(alpha)")
            XCTAssertNotEqual(warped, peakBand(f, warp: 1), "\(f) Hz: the warp moves the peak")
        }
    }
}

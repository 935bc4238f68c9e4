// Test-time robustness of the clip edits: a word with steady noise before and after, at 8 kHz and at
// 48 kHz, is cut to the same span of seconds once the noise floor counts, and a clip recorded quiet or
// loud comes out at one active level.
import XCTest
import Tensor

@testable import Media

final class TrimAndLoudnessTests: XCTestCase {
    /// 0.4 s of noise, a 0.5 s tone "word" (with a soft onset), 0.3 s of noise, at `rate`; noise `noiseDB`
    /// below the word.
    func noisyWord(rate: Int, noiseDB: Double, gain: Float = 0.5, seed: UInt64 = 3) -> [Float] {
        var rng = SeededRandom(seed: seed)
        let before = Int(0.4 * Double(rate)), word = Int(0.5 * Double(rate)), after = Int(0.3 * Double(rate))
        let sigma = Float(Double(gain) / 2.0.squareRoot() * pow(10, -noiseDB / 20))
        return (0..<(before + word + after)).map { i -> Float in
            var v = sigma * rng.nextNormal()
            if i >= before && i < before + word {
                let t = Double(i - before) / Double(rate)
                v += gain * Float(min(1, t / 0.02) * sin(2 * .pi * 440 * t))
            }
            return v
        }
    }

    func trimmedSeconds(_ x: [Float], rate: Int, margin: Double?) -> Range<Double> {
        let r = AudioEdits.soundRange(x, topDB: 30, frame: rate / 40, hop: rate / 100, noiseMarginDB: margin)!
        return (Double(r.lowerBound) / Double(rate))..<(Double(r.upperBound) / Double(rate))
    }

    func testNoiseAroundTheWordIsCutAlikeAtEverySampleRate() {
        for noiseDB in [12.0, 20.0] {
            // The peak rule alone keeps noise that is less than top_db below the word: the whole clip.
            let plain = trimmedSeconds(noisyWord(rate: 8000, noiseDB: noiseDB), rate: 8000, margin: nil)
            XCTAssertLessThan(plain.lowerBound, 0.05, "noise at −\(noiseDB) dB is kept by the peak rule")
            for rate in [8000, 16000, 44100, 48000] {
                let cut = trimmedSeconds(noisyWord(rate: rate, noiseDB: noiseDB), rate: rate, margin: 6)
                XCTAssertEqual(cut.lowerBound, 0.4, accuracy: 0.03, "\(rate) Hz, noise −\(noiseDB) dB: start")
                XCTAssertEqual(cut.upperBound, 0.9, accuracy: 0.03, "\(rate) Hz, noise −\(noiseDB) dB: end")
            }
        }
        // A clean word (digital silence around it) is cut the same with or without the margin.
        let clean = noisyWord(rate: 8000, noiseDB: 200)
        XCTAssertEqual(
            AudioEdits.trimmed(clean, topDB: 30, frame: 200, hop: 80, noiseMarginDB: 6),
            AudioEdits.trimmed(clean, topDB: 30, frame: 200, hop: 80))
        // Steady sound throughout keeps its loudest frames rather than vanishing.
        let hum = (0..<8000).map { Float(0.3 * sin(2 * Double.pi * 100 * Double($0) / 8000)) }
        XCTAssertFalse(AudioEdits.trimmed(hum, topDB: 30, frame: 200, hop: 80, noiseMarginDB: 6).isEmpty)
    }

    func testQuietAndLoudRecordingsComeOutAtOneLevel() {
        func activeLevel(_ x: [Float]) -> Double {
            // The word's RMS in dBFS (the middle of the tone, away from its onset).
            let mid = x[Int(0.5 * 8000)..<Int(0.8 * 8000)]
            return 10 * log10(mid.reduce(0.0) { $0 + Double($1 * $1) } / Double(mid.count))
        }
        var levels: [Double] = []
        for gain: Float in [0.01, 0.1, 0.5] {
            // Noise 25 dB down: the pauses do not pull the level, at either rate.
            let x = noisyWord(rate: 8000, noiseDB: 25, gain: gain)
            let y = AudioEdits.loudnessNormalized(x, targetDB: -23, topDB: 30, frame: 200, hop: 80)
            levels.append(activeLevel(y))
            XCTAssertLessThan(y.map { abs($0) }.max()!, 0.99)
        }
        for l in levels { XCTAssertEqual(l, -23, accuracy: 0.5, "\(levels)") }
        // The gain is capped below clipping: a target above a full-scale square wave's level.
        let square = (0..<800).map { Float($0 % 20 < 10 ? 0.9 : -0.9) }
        XCTAssertLessThanOrEqual(
            AudioEdits.loudnessNormalized(square, targetDB: -1, topDB: 30, frame: 200, hop: 80).map { abs($0) }.max()!,
            0.99 + 1e-6)
        XCTAssertEqual(
            AudioEdits.loudnessNormalized([0, 0, 0], targetDB: -23, topDB: 30, frame: 200, hop: 80), [0, 0, 0])
    }
}

final class PitchShiftTests: XCTestCase {
    /// Zero crossings per second of the middle half: twice the frequency of a tone.
    func frequency(_ x: [Float], rate: Int) -> Double {
        let mid = Array(x[(x.count / 4)..<(3 * x.count / 4)])
        let crossings = zip(mid, mid.dropFirst()).filter { ($0 < 0) != ($1 < 0) }.count
        return Double(crossings) / 2 / (Double(mid.count) / Double(rate))
    }

    func testThePitchMovesByTheFactorAndTheLengthStays() throws {
        for rate in [8000, 16000] {
            let tone = (0..<(rate / 2)).map { Float(0.5 * sin(2 * Double.pi * 200 * Double($0) / Double(rate))) }
            for factor in [0.8, 1.25] {
                let y = try AudioEdits.pitchShifted(tone, factor: factor, sampleRate: rate)
                XCTAssertEqual(
                    Double(y.count), Double(tone.count), accuracy: Double(tone.count) * 0.01, "\(rate) Hz, ×\(factor)")
                XCTAssertEqual(
                    frequency(y, rate: rate), 200 * factor, accuracy: 200 * factor * 0.03, "\(rate) Hz, ×\(factor)")
            }
        }
        // Stretching alone keeps the pitch and changes the length.
        let tone = (0..<8000).map { Float(0.5 * sin(2 * Double.pi * 300 * Double($0) / 8000)) }
        let long = AudioEdits.timeStretched(tone, by: 1.5, sampleRate: 8000)
        XCTAssertEqual(long.count, 12000)
        XCTAssertEqual(frequency(long, rate: 8000), 300, accuracy: 9)
        XCTAssertEqual(try AudioEdits.pitchShifted(tone, factor: 1, sampleRate: 8000), tone)
    }
}

// Audio decoding of every encoding, resampling quality, librosa-equal features (reference fixtures written by
// scripts/make-librosa-reference.py), and hostile files.
import XCTest
import TestSupport
import Tensor
import NN
@testable import Media

/// Runs sox (installed by scripts/install-deps.sh) to make a fixture.
func sox(_ args: [String]) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["sox", "-R", "-D"] + args  // repeatable: no random dither
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw MediaError("sox", "failed: \(args.joined(separator: " "))") }
}

/// Dominant frequency by FFT peak (with parabolic interpolation).
func peakFrequency(_ x: [Float], _ rate: Int) -> Double {
    let n = 1 << Int(log2(Double(min(x.count, 8192))))
    var re = (0..<n).map { Double(x[$0]) * (0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(n))) }
    var im = [Double](repeating: 0, count: n)
    FFT(n).forward(&re, &im)
    let mag = (0..<n / 2).map { (re[$0] * re[$0] + im[$0] * im[$0]).squareRoot() }
    let k = (1..<n / 2 - 1).max { mag[$0] < mag[$1] }!
    let d = 0.5 * (mag[k - 1] - mag[k + 1]) / (mag[k - 1] - 2 * mag[k] + mag[k + 1])
    return (Double(k) + d) * Double(rate) / Double(n)
}

final class AudioTests: ScratchFolderTestCase {

    func testEveryEncodingDecodesToTheSameTone() throws {
        let cases: [(String, [String])] = [
            ("u8.wav", ["-b", "8", "-e", "unsigned-integer"]), ("s16.wav", ["-b", "16"]), ("s24.wav", ["-b", "24"]),
            ("s32.wav", ["-b", "32"]), ("f32.wav", ["-b", "32", "-e", "floating-point"]),
            ("f64.wav", ["-b", "64", "-e", "floating-point"]),
            ("ulaw.wav", ["-e", "u-law"]), ("alaw.wav", ["-e", "a-law"]), ("ima.wav", ["-e", "ima-adpcm"]),
            ("ms.wav", ["-e", "ms-adpcm"]),
            ("flac.flac", ["-b", "16"]), ("vorbis.ogg", []), ("stereo.wav", ["-c", "2"]),
            ("quad24.wav", ["-c", "4", "-b", "24"]),
        ]
        for (name, opts) in cases {
            let path = "\(dir!)/\(name)"
            try sox(["-n", "-r", "16000"] + opts + [path, "synth", "0.5", "sine", "440", "vol", "0.5"])
            let info = try Audio.info(path)
            let clip = try Audio.read(path)
            XCTAssertEqual(info.sampleRate, 16000, name)
            XCTAssertEqual(clip.duration, 0.5, accuracy: 0.02, name)
            XCTAssertEqual(peakFrequency(clip.samples, 16000), 440, accuracy: 2, name)
            XCTAssertEqual(clip.rms, 0.5 / 2.0.squareRoot(), accuracy: 0.03, name)
        }
        XCTAssertEqual(try Audio.info("\(dir!)/quad24.wav").format, "WAVEX PCM 24")  // WAVE_FORMAT_EXTENSIBLE
        XCTAssertEqual(try Audio.info("\(dir!)/quad24.wav").channels, 4)
        XCTAssertEqual(try Audio.info("\(dir!)/ulaw.wav").format, "WAV µ-law")
        XCTAssertEqual(try Audio.info("\(dir!)/vorbis.ogg").format, "OGG Vorbis")
    }

    func testResamplingKeepsPitchAndRemovesContentAboveNewNyquist() throws {
        let path = "\(dir!)/cd.flac"
        try sox(["-n", "-r", "44100", "-c", "2", "-b", "16", path, "synth", "1.0", "sine", "440", "vol", "0.5"])
        let clip = try Audio.read(path, sampleRate: 16000, duration: 1.25)
        XCTAssertEqual(clip.sampleRate, 16000)
        XCTAssertEqual(clip.samples.count, 20000)  // padded to 1.25 s
        XCTAssertEqual(peakFrequency(Array(clip.samples.prefix(16000)), 16000), 440, accuracy: 1)
        XCTAssertEqual(Array(clip.samples.suffix(3000)).allSatisfy { $0 == 0 }, true)
        // 10 kHz cannot exist at 16 kHz: it must be attenuated by ≥ 40 dB, not folded to 6 kHz.
        let hi = (0..<44100).map { Float(0.5 * sin(2 * Double.pi * 10000 * Double($0) / 44100)) }
        let out = try Resampler.resample(hi, from: 44100, to: 16000)
        let core = Array(out[200..<(out.count - 200)])
        let rmsIn = 0.5 / 2.0.squareRoot()
        let rmsOut = (core.reduce(0.0) { $0 + Double($1 * $1) } / Double(core.count)).squareRoot()
        let db = 20 * log10(rmsOut / rmsIn)
        print(String(format: "10 kHz tone after 44.1→16 kHz: %.1f dB", db))
        XCTAssertLessThan(db, -40)
        // Upsampling keeps the tone too.
        let up = try Resampler.resample(Array(clip.samples.prefix(16000)), from: 16000, to: 48000)
        XCTAssertEqual(peakFrequency(up, 48000), 440, accuracy: 1)
    }

    /// Odd rates use the bounded phase table (a Bessel function per tap would take ~24 s for 1 Hz → 16 kHz).
    func testOddRatesUseTheBoundedTableAndStopOnInterruption() throws {
        // 44101 Hz has no common factor with 16000: more phases than the table holds, so they are blended.
        let tone = (0..<44101).map { Float(0.5 * sin(2 * Double.pi * 440 * Double($0) / 44101)) }
        let out = try Resampler.resample(tone, from: 44101, to: 16000)
        XCTAssertEqual(out.count, 16000)
        XCTAssertEqual(peakFrequency(Array(out.prefix(16000)), 16000), 440, accuracy: 1)
        // Away from the edges, the result is the tone itself sampled at 16 kHz, blended phases or exact.
        func error(_ y: [Float]) -> Double {
            (400..<15600).map { abs(Double(y[$0]) - 0.5 * sin(2 * Double.pi * 440 * Double($0) / 16000)) }.max()!
        }
        let exact = try Resampler.resample(
            Array((0..<44100).map { Float(0.5 * sin(2 * Double.pi * 440 * Double($0) / 44100)) }), from: 44100,
            to: 16000)
        print(
            String(
                format:
                    "440 Hz tone to 16 kHz, max |error|: from 44101 Hz (blended phases) %.2e, from 44100 Hz (exact phases) %.2e",
                error(out), error(exact)))
        XCTAssertLessThan(error(out), 1e-3)
        XCTAssertLessThan(error(out), 3 * error(exact) + 1e-5)
        // 1 Hz → 16 kHz: 600 samples become 9.6 M, in time linear in the output.
        let slow = (0..<600).map { Float($0 % 2) }
        XCTAssertEqual(try Resampler.resample(slow, from: 1, to: 16000).count, 9_600_000)
        Interruption.requested = true
        defer { Interruption.requested = false }
        XCTAssertThrowsError(try Resampler.resample(slow, from: 1, to: 16000)) {
            XCTAssertTrue($0 is Interruption.Stopped)
        }
    }

    func testFeaturesEqualLibrosa() throws {
        let fx = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/audio")
            .path
        let ref = try Safetensors.read(fx + "/librosa_reference.safetensors").tensors
        var s = SpectrogramSettings()
        for clip in ["espeak_seven", "flite_three", "flite_three_noisy"] {
            let y = try Audio.read("\(fx)/\(clip).wav").samples
            func compare(_ name: String, _ ours: [[Double]], _ theirs: Tensor) {
                XCTAssertEqual([ours.count, ours.first?.count ?? 0], theirs.shape, "\(clip) \(name) shape")
                guard [ours.count, ours.first?.count ?? 0] == theirs.shape else { return }
                let flat = ours.flatMap { $0 }
                let peak = theirs.scalars.map { abs(Double($0)) }.max()!
                var maxRel = 0.0
                for (a, b) in zip(flat, theirs.scalars) { maxRel = max(maxRel, abs(a - Double(b)) / peak) }
                print(
                    "LIBROSA \(maxRel <= 1e-3 ? "OK" : "BAD") \(clip) \(name): max |diff| / max |ref| = \(String(format: "%.2e", maxRel))"
                )
                XCTAssertLessThanOrEqual(maxRel, 1e-3, "\(clip) \(name)")
            }
            s.scale = .slaney
            compare("melspectrogram", Features.melSpectrogram(y, sampleRate: 16000, s), ref["\(clip).mel"]!)
            compare("mfcc", Features.mfcc(y, sampleRate: 16000, s), ref["\(clip).mfcc"]!)
            let htk = Features.melFilterbank(sampleRate: 16000, nFFT: 512, nMels: 40, scale: .htk, normalize: false)
            let p = Features.powerSpectrogram(y, nFFT: 512, hop: 160)
            let melHTK = htk.map { w in (0..<p[0].count).map { t in zip(w, p).reduce(0.0) { $0 + $1.0 * $1.1[t] } } }
            compare("melspectrogram htk", melHTK, ref["\(clip).mel_htk_nonorm"]!)
        }
    }

    func testFFTMatchesDirectDFTForAnyLength() {
        for n in [1, 7, 16, 400, 512] {
            var rng = SeededRandom(seed: UInt64(n))
            let x = (0..<n).map { _ in Double(rng.nextFloat() - 0.5) }
            var re = x, im = [Double](repeating: 0, count: n)
            FFT(n).forward(&re, &im)
            var maxDiff = 0.0
            for k in 0..<n {
                var sr = 0.0, si = 0.0
                for j in 0..<n {
                    let a = -2 * Double.pi * Double(j * k % n) / Double(n)
                    sr += x[j] * cos(a)
                    si += x[j] * sin(a)
                }
                maxDiff = max(maxDiff, abs(sr - re[k]), abs(si - im[k]))
            }
            XCTAssertLessThan(maxDiff, 1e-9, "n=\(n)")
        }
    }

    func testWAVWriteRoundTripIsAtomic() throws {
        let tone = (0..<8000).map { Float(0.8 * sin(2 * Double.pi * 300 * Double($0) / 8000)) }
        for enc in [Audio.Encoding.pcm16, .float32] {
            let path = "\(dir!)/out_\(enc).wav"
            try Audio.writeWAV(AudioClip(samples: tone, sampleRate: 8000), to: path, encoding: enc)
            let back = try Audio.read(path)
            XCTAssertEqual(back.sampleRate, 8000)
            let maxDiff = zip(back.samples, tone).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(maxDiff, enc == .pcm16 ? 1.0 / 16000 : 1e-7)
            XCTAssertEqual(try Audio.info(path).format, enc == .pcm16 ? "WAV PCM 16" : "WAV float")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".tmp") }, [])
        XCTAssertThrowsError(try Audio.writeWAV(AudioClip(samples: tone, sampleRate: 8000), to: dir + "/no/dir/x.wav"))
    }

    /// A little-endian WAV header for `frames` 16-bit frames (data optionally shorter than declared).
    func wav(channels: Int, rate: Int, frames: Int, dataBytes: Int? = nil) -> Data {
        var d = Data("RIFF".utf8)
        let size = frames * 2 * max(channels, 1)
        func le32(_ v: Int) -> [UInt8] {
            [UInt8(v & 255), UInt8(v >> 8 & 255), UInt8(v >> 16 & 255), UInt8(v >> 24 & 255)]
        }
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 255), UInt8(v >> 8 & 255)] }
        d += le32(36 + size) + Array("WAVEfmt ".utf8) + le32(16) + le16(1) + le16(channels) + le32(rate)
        d += le32(rate * 2 * max(channels, 1)) + le16(2 * max(channels, 1)) + le16(16) + Array("data".utf8) + le32(size)
        d += Data(count: dataBytes ?? size)
        return d
    }

    func expectError(
        _ name: String, _ data: Data?, _ fragment: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        let path = "\(dir!)/\(name)"
        if let data { try! data.write(to: URL(fileURLWithPath: path)) }
        XCTAssertThrowsError(try Audio.read(path), file: file, line: line) { e in
            XCTAssertTrue("\(e)".hasPrefix(path + ": "), "\(e)", file: file, line: line)
            XCTAssertTrue(
                "\(e)".lowercased().contains(fragment.lowercased()), "expected '\(fragment)' in \(e)", file: file,
                line: line)
        }
    }

    func testCorruptAndHostileAudio() throws {
        let good = wav(channels: 1, rate: 16000, frames: 1600)
        XCTAssertNoThrow(
            try {
                try good.write(to: URL(fileURLWithPath: "\(dir!)/ok.wav"))
                _ = try Audio.read("\(dir!)/ok.wav")
            }())
        expectError("trunc.wav", good.prefix(1000), "truncated WAV")
        expectError(
            "lying.wav", wav(channels: 1, rate: 16000, frames: 1_000_000, dataBytes: 100), "declares 2000000 bytes")
        expectError("empty.wav", Data(), "empty file (0 bytes)")
        expectError("garbage.wav", Data((0..<3000).map { UInt8($0 * 7 % 256) }), "not a readable audio file")
        expectError("zerochan.wav", wav(channels: 0, rate: 16000, frames: 100), "channel count is zero")
        expectError("zerorate.wav", wav(channels: 1, rate: 0, frames: 100), "not a readable audio file")
        expectError("manychan.wav", wav(channels: 1000, rate: 16000, frames: 10), "1000 channels; the limit is 64")
        expectError("long.wav", wav(channels: 1, rate: 8, frames: 100_000), "limit is 600 s")
        expectError("missing.wav", nil, "no such file")
        try FileManager.default.createDirectory(atPath: "\(dir!)/folder.wav", withIntermediateDirectories: true)
        expectError("folder.wav", nil, "not a regular file")
        try sox(["-n", "-r", "16000", "-b", "16", "\(dir!)/f.flac", "synth", "0.5", "sine", "440"])
        let flac = try Data(contentsOf: URL(fileURLWithPath: "\(dir!)/f.flac"))
        // Depending on where the cut lands, libsndfile loses sync or just runs out of frames; either is reported.
        let cut = "\(dir!)/trunc.flac"
        try flac.prefix(flac.count / 2).write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try Audio.read(cut)) { e in
            XCTAssertTrue(
                "\(e)".hasPrefix(cut + ": ") && ("\(e)".contains("decode error") || "\(e)".contains("truncated")),
                "\(e)")
        }
        var bad = flac
        for i in stride(from: 200, to: bad.count, by: 97) { bad[i] ^= 0xA5 }
        XCTAssertThrowsError(
            try {
                try bad.write(to: URL(fileURLWithPath: "\(dir!)/bad.flac"))
                _ = try Audio.read("\(dir!)/bad.flac")
            }())
    }

    func testRandomMutationsOfWAVAndFLACNeverCrash() throws {
        try sox(["-n", "-r", "8000", "-b", "16", "\(dir!)/m.wav", "synth", "0.1", "sine", "440"])
        try sox(["-n", "-r", "8000", "-b", "16", "\(dir!)/m.flac", "synth", "0.1", "sine", "440"])
        var rng = SeededRandom(seed: 99)
        var failures = 0
        var bad: [String] = []
        for ext in ["wav", "flac"] {
            let base = try Data(contentsOf: URL(fileURLWithPath: "\(dir!)/m.\(ext)"))
            let path = "\(dir!)/mut.\(ext)"
            for i in 0..<6000 {
                var d = base
                switch i % 4 {
                case 0: d = d.prefix(rng.nextInt(d.count))
                case 1:
                    for _ in 0..<(1 + rng.nextInt(4)) {
                        let j = rng.nextInt(min(d.count, 200))
                        d[j] ^= UInt8(1 << rng.nextInt(8))
                    }
                case 2:
                    let j = rng.nextInt(d.count)
                    d[j] = UInt8(rng.nextInt(256))
                default:
                    // Rewrite a 32-bit length field (RIFF/fmt/data sizes in WAV; block headers in FLAC).
                    let at = ext == "wav" ? [4, 16, 40][rng.nextInt(3)] : 4 + rng.nextInt(40)
                    for k in 0..<4 where at + k < d.count { d[at + k] = UInt8(rng.nextInt(256)) }
                }
                try d.write(to: URL(fileURLWithPath: path))
                // Either a clip that makes sense or an error that names the file.
                do {
                    let clip = try Audio.read(path)
                    if clip.sampleRate <= 0 || !clip.samples.allSatisfy({ $0.isFinite && abs($0) <= 1.0001 }) {
                        bad.append("\(i): clip out of range")
                    }
                } catch let e as MediaError {
                    failures += 1
                    if e.file != path || e.reason.isEmpty { bad.append("\(i): \(e)") }
                } catch { bad.append("\(i): not a MediaError: \(error)") }
            }
        }
        print("audio mutations: 12000 cases, \(failures) rejected with an error naming the file, \(bad.count) bad")
        XCTAssertEqual(bad, [])
        XCTAssertGreaterThan(failures, 1000)
    }
}

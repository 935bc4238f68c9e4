// Audio features, following librosa's defaults (documented in docs/audio.md):
// - STFT: periodic Hann window, centred frames with n_fft/2 zeros of padding on each side
//   (librosa ≥ 0.10's pad_mode="constant"), frames = 1 + len/hop.
// - Mel filterbank: Slaney mel scale (linear below 1 kHz, logarithmic above) with Slaney area
//   normalisation (librosa's default), or the HTK scale 2595·log10(1 + f/700).
// - Log-mel: 10·log10(max(1e-10, S)) with ref 1.0, floored at max − top_db (80 dB) per clip.
// - MFCC: DCT-II with orthonormal scaling of the log-mel, first n_mfcc rows, no liftering.
// (python_speech_features uses natural-log energies and a lifter; torchaudio defaults to the HTK scale
// without normalisation — hence the different numbers between those libraries.)
import Foundation
import Tensor

public enum MelScale { case slaney, htk }

public struct SpectrogramSettings: Equatable {
    public var nFFT = 512, hop = 160, nMels = 40, nMFCC = 13
    public var fMin = 0.0, fMax: Double? = nil
    public var scale = MelScale.slaney
    public var topDB: Double? = 80
    /// Vocal-tract-length perturbation factor of the mel filterbank's frequency axis (1 = none; VocalTractWarp).
    public var warp = 1.0
    public init() {}
}

public enum Features {
    /// Periodic Hann window of length n (scipy.signal.get_window("hann", n, fftbins=True)).
    public static func hann(_ n: Int) -> [Double] {
        (0..<n).map { 0.5 - 0.5 * Foundation.cos(2 * Double.pi * Double($0) / Double(n)) }
    }

    /// Power spectrogram |STFT|², shape [n_fft/2 + 1][frames] (frequency-major, like librosa).
    public static func powerSpectrogram(_ y: [Float], nFFT: Int, hop: Int) -> [[Double]] {
        precondition(nFFT >= 2 && hop >= 1, "STFT: n_fft ≥ 2 and hop ≥ 1")
        let pad = nFFT / 2
        var padded = [Double](repeating: 0, count: y.count + 2 * pad)
        for i in 0..<y.count { padded[pad + i] = Double(y[i]) }
        // A clip shorter than the window's far half gives no frame (padded.count < nFFT for an odd nFFT).
        let frames = padded.count >= nFFT ? 1 + (padded.count - nFFT) / hop : 0
        let bins = nFFT / 2 + 1
        let w = hann(nFFT)
        let fft = FFT(nFFT)
        // Filled frame-major through a pointer (nested-array writes paid a uniqueness check each), then cut into rows.
        var flat = [Double](repeating: 0, count: max(frames, 0) * bins)
        var re = [Double](repeating: 0, count: nFFT), im = [Double](repeating: 0, count: nFFT)
        // Two real frames per complex transform: frame t as the real part, frame t + 1 as the imaginary
        // part; with Z = FFT(x + iy), X[k] = (Z[k] + Z*[n−k]) / 2 and Y[k] = (Z[k] − Z*[n−k]) / 2i.
        var t = 0
        while t < frames {
            let pair = t + 1 < frames
            for i in 0..<nFFT {
                re[i] = padded[t * hop + i] * w[i]
                im[i] = pair ? padded[(t + 1) * hop + i] * w[i] : 0
            }
            fft.forward(&re, &im)
            flat.withUnsafeMutableBufferPointer { o in
                for k in 0..<bins {
                    let j = (nFFT - k) % nFFT
                    let sr = re[k] + re[j], si = im[k] - im[j]  // Z[k] + Z*[n−k] = 2X[k]
                    o[t * bins + k] = 0.25 * (sr * sr + si * si)
                    if pair {
                        let dr = re[k] - re[j], di = im[k] + im[j]  // Z[k] − Z*[n−k] = 2iY[k]
                        o[(t + 1) * bins + k] = 0.25 * (dr * dr + di * di)
                    }
                }
            }
            t += 2
        }
        let out = (0..<bins).map { k in
            [Double](unsafeUninitializedCapacity: max(frames, 0)) { b, n in
                for f in 0..<max(frames, 0) { b[f] = flat[f * bins + k] }
                n = max(frames, 0)
            }
        }
        return out
    }

    public static func hzToMel(_ f: Double, _ scale: MelScale) -> Double {
        switch scale {
        case .htk: return 2595 * log10(1 + f / 700)
        case .slaney:
            let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logstep = Foundation.log(6.4) / 27
            return f >= minLogHz ? minLogMel + Foundation.log(f / minLogHz) / logstep : f / fSp
        }
    }

    public static func melToHz(_ m: Double, _ scale: MelScale) -> Double {
        switch scale {
        case .htk: return 700 * (Foundation.pow(10, m / 2595) - 1)
        case .slaney:
            let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logstep = Foundation.log(6.4) / 27
            return m >= minLogMel ? minLogHz * Foundation.exp(logstep * (m - minLogMel)) : fSp * m
        }
    }

    /// Triangular mel filters [n_mels][n_fft/2+1]; Slaney area normalisation for the Slaney scale.
    public static func melFilterbank(
        sampleRate: Int, nFFT: Int, nMels: Int, fMin: Double = 0, fMax: Double? = nil,
        scale: MelScale = .slaney, normalize: Bool = true, warp: Double = 1
    ) -> [[Double]] {
        let top = fMax ?? Double(sampleRate) / 2
        let bins = nFFT / 2 + 1
        // With a warp, each FFT bin is read by the filters at its warped frequency.
        let fftFreqs = (0..<bins).map {
            VocalTractWarp.warped(
                Double($0) * Double(sampleRate) / Double(nFFT), alpha: warp, nyquist: Double(sampleRate) / 2)
        }
        let lo = hzToMel(fMin, scale), hi = hzToMel(top, scale)
        let melF = (0..<(nMels + 2)).map { melToHz(lo + (hi - lo) * Double($0) / Double(nMels + 1), scale) }
        var w = Array(repeating: [Double](repeating: 0, count: bins), count: nMels)
        for i in 0..<nMels {
            let fd0 = melF[i + 1] - melF[i], fd1 = melF[i + 2] - melF[i + 1]
            for k in 0..<bins {
                let lower = (fftFreqs[k] - melF[i]) / fd0
                let upper = (melF[i + 2] - fftFreqs[k]) / fd1
                w[i][k] = max(0, min(lower, upper))
            }
            if normalize {
                let enorm = 2 / (melF[i + 2] - melF[i])
                for k in 0..<bins { w[i][k] *= enorm }
            }
        }
        return w
    }

    /// Mel power spectrogram [n_mels][frames] (librosa.feature.melspectrogram with power 2).
    public static func melSpectrogram(_ y: [Float], sampleRate: Int, _ s: SpectrogramSettings = SpectrogramSettings())
        -> [[Double]]
    {
        let p = powerSpectrogram(y, nFFT: s.nFFT, hop: s.hop)
        let fb = melFilterbank(
            sampleRate: sampleRate, nFFT: s.nFFT, nMels: s.nMels, fMin: s.fMin, fMax: s.fMax, scale: s.scale,
            warp: s.warp)
        let frames = p.first?.count ?? 0
        var out = Array(repeating: [Double](repeating: 0, count: frames), count: s.nMels)
        for m in 0..<s.nMels {
            out[m].withUnsafeMutableBufferPointer { o in
                for (k, wk) in fb[m].enumerated() where wk != 0 {
                    p[k].withUnsafeBufferPointer { row in for t in 0..<frames { o[t] += wk * row[t] } }
                }
            }
        }
        return out
    }

    /// 10·log10(S) with amin 1e-10 and ref 1, floored at (max − topDB) over the whole clip.
    public static func powerToDB(_ s: [[Double]], topDB: Double? = 80) -> [[Double]] {
        var out = s.map { $0.map { 10 * log10(max(1e-10, $0)) } }
        if let t = topDB {
            let peak = out.flatMap { $0 }.max() ?? 0
            out = out.map { $0.map { max($0, peak - t) } }
        }
        return out
    }

    /// MFCC [n_mfcc][frames]: orthonormal DCT-II over the mel axis of the log-mel spectrogram.
    public static func mfcc(_ y: [Float], sampleRate: Int, _ s: SpectrogramSettings = SpectrogramSettings())
        -> [[Double]]
    {
        let logMel = powerToDB(melSpectrogram(y, sampleRate: sampleRate, s), topDB: s.topDB)
        let n = s.nMels, frames = logMel.first?.count ?? 0
        var out = Array(repeating: [Double](repeating: 0, count: frames), count: s.nMFCC)
        for k in 0..<s.nMFCC {
            let scale = k == 0 ? (1 / Double(n)).squareRoot() : (2 / Double(n)).squareRoot()
            let basis = (0..<n).map {
                Foundation.cos(Double.pi * Double(k) * (2 * Double($0) + 1) / (2 * Double(n))) * scale
            }
            for t in 0..<frames {
                var acc = 0.0
                for m in 0..<n { acc += basis[m] * logMel[m][t] }
                out[k][t] = acc
            }
        }
        return out
    }
}

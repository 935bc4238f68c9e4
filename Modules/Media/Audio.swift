// Audio files through libsndfile: WAV (PCM u8/16/24/32, float, double, µ-law, A-law, IMA/MS ADPCM,
// WAVE_FORMAT_EXTENSIBLE), FLAC, OGG Vorbis, AIFF, AU… mixed down to mono, optionally resampled
// (band-limited, see Resampler.swift) and padded/trimmed to a fixed duration.
// Header sanity is checked before frames are read: channel count, sample rate, a maximum duration,
// and for WAV the data chunk's declared size against the file (libsndfile silently shortens a
// truncated WAV; dlpipe reports it).
import Foundation
import CSndFile
import Tensor

public struct AudioInfo: Equatable {
    public let format: String
    public let sampleRate: Int
    public let channels: Int
    public let frames: Int
    public var duration: Double { Double(frames) / Double(sampleRate) }
}

/// Mono samples in [-1, 1] at a sample rate.
public struct AudioClip: Equatable {
    public var samples: [Float]
    public let sampleRate: Int
    public init(samples: [Float], sampleRate: Int) {
        self.samples = samples
        self.sampleRate = sampleRate
    }
    public var duration: Double { Double(samples.count) / Double(sampleRate) }
    /// Root mean square of the samples.
    public var rms: Double {
        samples.isEmpty
            ? 0 : (samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)).squareRoot()
    }
}

public enum Audio {
    public struct Limits {
        public var maxChannels = 64
        public var maxSampleRate = 768_000
        public var maxSeconds = 600.0
        public init() {}
    }

    public enum Encoding { case pcm16, float32 }

    static func formatName(_ f: Int32) -> String {
        let major: [Int32: String] = [
            0x010000: "WAV", 0x020000: "AIFF", 0x030000: "AU", 0x040000: "RAW", 0x130000: "WAVEX",
            0x170000: "FLAC", 0x200000: "OGG", 0x220000: "RF64", 0x230000: "MPEG", 0x0B0000: "W64",
        ]
        let sub: [Int32: String] = [
            0x1: "PCM S8", 0x2: "PCM 16", 0x3: "PCM 24", 0x4: "PCM 32", 0x5: "PCM U8", 0x6: "float",
            0x7: "double", 0x10: "µ-law", 0x11: "A-law", 0x12: "IMA ADPCM", 0x13: "MS ADPCM",
            0x60: "Vorbis", 0x64: "Opus", 0x82: "MP3",
        ]
        let m = major[f & 0x0FFF0000] ?? String(format: "0x%06x", f & 0x0FFF0000)
        let s = sub[f & 0xFFFF] ?? String(format: "0x%04x", f & 0xFFFF)
        return "\(m) \(s)"
    }

    static func sfError(_ file: OpaquePointer?) -> String {
        String(cString: sf_strerror(file)).trimmingCharacters(in: CharacterSet(charactersIn: ". \n"))
    }

    /// Opens a file and checks its header; the caller closes the handle.
    static func open(_ path: String, limits: Limits) throws -> (OpaquePointer, AudioInfo) {
        var st = stat()
        guard stat(path, &st) == 0 else { throw MediaError(path, String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw MediaError(path, "not a regular file") }
        guard st.st_size > 0 else { throw MediaError(path, "empty file (0 bytes), not a readable audio file") }
        if path.lowercased().hasSuffix(".wav") { try checkWAVSizes(path, fileSize: Int(st.st_size)) }
        var sfinfo = SF_INFO()
        guard let f = sf_open(path, Int32(SFM_READ), &sfinfo) else {
            throw MediaError(path, "not a readable audio file (\(sfError(nil)))")
        }
        let info = AudioInfo(
            format: formatName(sfinfo.format), sampleRate: Int(sfinfo.samplerate),
            channels: Int(sfinfo.channels), frames: Int(sfinfo.frames))
        func fail(_ r: String) -> MediaError {
            sf_close(f)
            return MediaError(path, r)
        }
        guard info.channels >= 1 else { throw fail("audio has \(info.channels) channels") }
        guard info.channels <= limits.maxChannels else {
            throw fail("audio has \(info.channels) channels; the limit is \(limits.maxChannels)")
        }
        guard info.sampleRate >= 1 else { throw fail("sample rate is \(info.sampleRate) Hz") }
        guard info.sampleRate <= limits.maxSampleRate else {
            throw fail("sample rate \(info.sampleRate) Hz is above the limit \(limits.maxSampleRate)")
        }
        guard info.frames >= 0 else { throw fail("frame count \(info.frames) is invalid") }
        guard info.duration <= limits.maxSeconds else {
            throw fail(String(format: "audio is %.1f s long; the limit is %.0f s", info.duration, limits.maxSeconds))
        }
        return (f, info)
    }

    /// RIFF/WAVE: the `data` chunk must not claim more bytes than the file holds.
    static func checkWAVSizes(_ path: String, fileSize: Int) throws {
        guard let fh = FileHandle(forReadingAtPath: path) else { return }
        defer { try? fh.close() }
        let head = [UInt8]((try? fh.read(upToCount: 4096)) ?? Data())
        guard head.count >= 12, head[0..<4] == [0x52, 0x49, 0x46, 0x46], head[8..<12] == [0x57, 0x41, 0x56, 0x45] else {
            return
        }
        func le32(_ o: Int) -> Int {
            Int(head[o]) | Int(head[o + 1]) << 8 | Int(head[o + 2]) << 16 | Int(head[o + 3]) << 24
        }
        var pos = 12
        while pos + 8 <= head.count {
            let size = le32(pos + 4)
            if head[pos..<pos + 4] == [0x64, 0x61, 0x74, 0x61] {  // "data"
                let available = fileSize - (pos + 8)
                if size != 0xFFFF_FFFF && size != 0 && size > available {
                    throw MediaError(
                        path, "truncated WAV: the data chunk declares \(size) bytes but the file holds \(available)")
                }
                return
            }
            pos += 8 + size + (size & 1)
        }
    }

    /// Header facts without reading samples.
    public static func info(_ path: String, limits: Limits = Limits()) throws -> AudioInfo {
        let (f, info) = try open(path, limits: limits)
        sf_close(f)
        return info
    }

    /// Reads a file as mono, optionally resampled to `sampleRate` and padded/trimmed to `duration` seconds.
    ///
    ///     let clip = try Audio.read("zero.wav", sampleRate: 16000, duration: 1.0)
    public static func read(
        _ path: String, sampleRate: Int? = nil, duration: Double? = nil,
        limits: Limits = Limits()
    ) throws -> AudioClip {
        let (f, info) = try open(path, limits: limits)
        defer { sf_close(f) }
        var mono = [Float]()
        mono.reserveCapacity(info.frames)
        let chunk = 16384
        var buf = [Float](repeating: 0, count: chunk * info.channels)
        var total = 0
        while true {
            let got = Int(buf.withUnsafeMutableBufferPointer { sf_readf_float(f, $0.baseAddress, sf_count_t(chunk)) })
            if got <= 0 { break }
            let ch = info.channels
            if ch == 1 {
                mono.append(contentsOf: buf[0..<got])
            } else {
                let inv = 1 / Float(ch)
                for i in 0..<got {
                    var s: Float = 0
                    for c in 0..<ch { s += buf[i * ch + c] }
                    mono.append(s * inv)
                }
            }
            total += got
            if Double(total) / Double(info.sampleRate) > limits.maxSeconds {
                throw MediaError(path, String(format: "audio is longer than the %.0f s limit", limits.maxSeconds))
            }
        }
        if sf_error(f) != 0 { throw MediaError(path, "decode error: \(sfError(f))") }
        if info.frames > 0 && total < info.frames {
            throw MediaError(path, "truncated: the header announces \(info.frames) frames, only \(total) could be read")
        }
        for i in 0..<mono.count where !mono[i].isFinite { mono[i] = 0 }  // float WAVs may hold NaN/inf
        var clip = AudioClip(samples: mono, sampleRate: info.sampleRate)
        if let sr = sampleRate, sr != info.sampleRate {
            precondition(sr > 0 && sr <= limits.maxSampleRate, "Audio.read: target rate \(sr)")
            clip = AudioClip(samples: try Resampler.resample(mono, from: info.sampleRate, to: sr), sampleRate: sr)
        }
        if let d = duration { clip.samples = fit(clip.samples, Int((d * Double(clip.sampleRate)).rounded())) }
        return clip
    }

    /// Zero-pads or trims to exactly `n` samples.
    public static func fit(_ x: [Float], _ n: Int) -> [Float] {
        x.count >= n ? Array(x.prefix(n)) : x + [Float](repeating: 0, count: n - x.count)
    }

    /// Writes a mono WAV (16-bit PCM or 32-bit float) atomically.
    public static func writeWAV(_ clip: AudioClip, to path: String, encoding: Encoding = .pcm16) throws {
        let url = URL(fileURLWithPath: path)
        let tmp =
            url.deletingLastPathComponent().path + "/." + url.lastPathComponent
            + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        var info = SF_INFO()
        info.samplerate = Int32(clip.sampleRate)
        info.channels = 1
        info.format = Int32(SF_FORMAT_WAV) | Int32(encoding == .pcm16 ? SF_FORMAT_PCM_16 : SF_FORMAT_FLOAT)
        guard let f = sf_open(tmp, Int32(SFM_WRITE), &info) else {
            throw MediaError(path, "cannot write: \(sfError(nil))")
        }
        if encoding == .pcm16 {
            // Clip instead of wrapping; libsndfile scales floats by 32767 (or 32768 with normalisation).
            var one: Int32 = 1
            sf_command(f, Int32(SFC_SET_CLIPPING), &one, Int32(MemoryLayout<Int32>.size))
        }
        let written = clip.samples.withUnsafeBufferPointer {
            sf_writef_float(f, $0.baseAddress, sf_count_t(clip.samples.count))
        }
        let err = sf_error(f)
        sf_close(f)
        guard written == clip.samples.count, err == 0 else {
            unlink(tmp)
            throw MediaError(path, "write failed: \(sfError(nil))")
        }
        let fd = Foundation.open(tmp, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
        guard rename(tmp, path) == 0 else {
            let e = String(cString: strerror(errno))
            unlink(tmp)
            throw MediaError(path, e)
        }
    }
}

// PNG reading and writing through libpng's simplified API.
// Convention: raw sample values scaled to [0,1]; alpha (an alpha channel or a palette's alpha table)
// composited over white behind dark content and over black behind light content (as a viewer shows a
// drawing); a keyed colour (tRNS of a gray or RGB image) shown as drawn (PNGColourKey.swift); gray = Rec.601
// luminance 0.299R + 0.587G + 0.114B. 16-bit files are read through libpng's 16-bit linear format
// (reading them as 8-bit would apply an sRGB encode) and scaled by 1/65535.
// The IHDR is parsed by us first, so hostile sizes are rejected before any pixel buffer exists.
import Foundation
import CPNG
import Tensor
import FilesAndText

/// Header facts of a PNG file.
public struct PNGInfo: Equatable {
    public let width: Int, height: Int, bitDepth: Int
    /// "gray", "gray+alpha", "palette", "rgb" or "rgba".
    public let colorType: String
    public let interlaced: Bool
}

public enum PNG {
    public enum Mode { case gray, rgb }

    /// Limits checked before decoding (overridable per call).
    public struct Limits {
        public var maxSide = 16384
        public var maxPixels = 4096 * 4096
        public var maxFileBytes = 512 << 20
        public init() {}
    }

    /// Parses and checks the signature and IHDR chunk.
    public static func info(_ bytes: UnsafeRawBufferPointer, file: String, limits: Limits = Limits()) throws -> PNGInfo
    {
        let sig: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard !bytes.isEmpty else { throw MediaError(file, "empty file (0 bytes), not a PNG") }
        guard bytes.count >= 8, Array(bytes[0..<8]) == sig else {
            throw MediaError(file, "not a PNG file (bad signature)")
        }
        guard bytes.count >= 33 else { throw MediaError(file, "truncated PNG (no complete IHDR chunk)") }
        func be32(_ o: Int) -> Int {
            Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
        }
        guard be32(8) == 13, Array(bytes[12..<16]) == Array("IHDR".utf8) else {
            throw MediaError(file, "first chunk is not a 13-byte IHDR")
        }
        let w = be32(16), h = be32(20), depth = Int(bytes[24]), ct = Int(bytes[25]), interlace = Int(bytes[28])
        guard w > 0, h > 0 else { throw MediaError(file, "image has zero size (\(w)×\(h))") }
        guard w <= limits.maxSide, h <= limits.maxSide else {
            throw MediaError(file, "image is \(w)×\(h); the limit is \(limits.maxSide) per side")
        }
        guard w * h <= limits.maxPixels else {
            throw MediaError(file, "image has \(w * h) pixels; the limit is \(limits.maxPixels)")
        }
        let valid: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
        guard let depths = valid[ct], depths.contains(depth) else {
            throw MediaError(file, "invalid colour type \(ct) with bit depth \(depth)")
        }
        guard interlace <= 1 else { throw MediaError(file, "unknown interlace method \(interlace)") }
        let names = [0: "gray", 2: "rgb", 3: "palette", 4: "gray+alpha", 6: "rgba"]
        return PNGInfo(width: w, height: h, bitDepth: depth, colorType: names[ct]!, interlaced: interlace == 1)
    }

    /// Reads a whole file with a size cap (never maps an unbounded file into memory).
    public static func readBytes(_ path: String, maxBytes: Int) throws -> Data {
        var st = stat()
        guard stat(path, &st) == 0 else { throw MediaError(path, String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw MediaError(path, "not a regular file") }
        guard Int(st.st_size) <= maxBytes else {
            throw MediaError(path, "file is \(st.st_size) bytes; the limit is \(maxBytes)")
        }
        guard let fh = FileHandle(forReadingAtPath: path) else {
            throw MediaError(path, String(cString: strerror(errno)))
        }
        defer { try? fh.close() }
        do { return try fh.readToEnd() ?? Data() } catch {
            throw MediaError(path, "read failed: \(error.localizedDescription)")
        }
    }

    /// Reads a PNG file from disk.
    ///
    ///     let img = try PNG.read("scan.png", as: .gray)
    public static func read(_ path: String, as mode: Mode = .gray, limits: Limits = Limits()) throws -> Image {
        let data = try readBytes(path, maxBytes: limits.maxFileBytes)
        return try decode(data, file: path, as: mode, limits: limits).image
    }

    /// Header facts from the first 33 bytes only (no whole-file read): for planning memory before decoding.
    public static func header(path: String, limits: Limits = Limits()) throws -> PNGInfo {
        guard let fh = FileHandle(forReadingAtPath: path) else {
            throw MediaError(path, String(cString: strerror(errno)))
        }
        defer { try? fh.close() }
        let head = (try? fh.read(upToCount: 33)) ?? Data()
        return try head.withUnsafeBytes { try info($0, file: path, limits: limits) }
    }

    /// Header facts of a file without decoding pixels.
    public static func info(path: String, limits: Limits = Limits()) throws -> PNGInfo {
        let data = try readBytes(path, maxBytes: limits.maxFileBytes)
        return try data.withUnsafeBytes { try info($0, file: path, limits: limits) }
    }

    /// Decodes PNG bytes; `file` names the input in errors.
    public static func decode(
        _ data: Data, file: String, as mode: Mode = .gray,
        limits: Limits = Limits()
    ) throws -> (image: Image, info: PNGInfo) {
        try data.withUnsafeBytes { raw -> (Image, PNGInfo) in
            let hdr = try info(raw, file: file, limits: limits)
            var img = png_image()
            img.version = png_uint_32(CPNG_IMAGE_VERSION)
            defer { png_image_free(&img) }
            guard png_image_begin_read_from_memory(&img, raw.baseAddress, raw.count) != 0 else {
                throw MediaError(file, "invalid PNG: \(message(img))")
            }
            guard Int(img.width) == hdr.width, Int(img.height) == hdr.height else {
                throw MediaError(file, "invalid PNG: header size changed while reading")
            }
            let n = hdr.width * hdr.height
            var rgb = [Float](repeating: 0, count: n * 3)
            var alpha = [Float](repeating: 1, count: n)
            if hdr.bitDepth == 16 {
                // 16-bit linear RGBA, premultiplied.
                img.format = png_uint_32(CPNG_FORMAT_LINEAR_RGB_ALPHA)
                var buf = [UInt16](repeating: 0, count: n * 4)
                let ok = buf.withUnsafeMutableBytes { png_image_finish_read(&img, nil, $0.baseAddress, 0, nil) }
                guard ok != 0 else { throw MediaError(file, "invalid PNG: \(message(img))") }
                for i in 0..<n {
                    alpha[i] = Float(buf[4 * i + 3]) / 65535
                    for c in 0..<3 { rgb[3 * i + c] = Float(buf[4 * i + c]) / 65535 }
                }
            } else {
                img.format = png_uint_32(CPNG_FORMAT_RGBA)
                var buf = [UInt8](repeating: 0, count: n * 4)
                let ok = buf.withUnsafeMutableBytes { png_image_finish_read(&img, nil, $0.baseAddress, 0, nil) }
                guard ok != 0 else { throw MediaError(file, "invalid PNG: \(message(img))") }
                for i in 0..<n {
                    alpha[i] = Float(buf[4 * i + 3]) / 255
                    for c in 0..<3 { rgb[3 * i + c] = Float(buf[4 * i + c]) / 255 * alpha[i] }
                }
            }
            if let key = PNGColourKey.find(in: raw, info: hdr) { key.restore(&rgb, &alpha) }
            compositeOverContrastingBackground(&rgb, alpha)
            let image = Image(width: hdr.width, height: hdr.height, channels: 3, pixels: rgb)
            return (mode == .gray ? image.gray() : image, hdr)
        }
    }

    /// Fills transparent areas (`rgb` is premultiplied) the way a viewer shows a drawing: over white when
    /// the visible content is dark (black ink on a transparent sheet), over black when it is light.
    static func compositeOverContrastingBackground(_ rgb: inout [Float], _ alpha: [Float]) {
        guard alpha.contains(where: { $0 < 1 }) else { return }
        var lum = 0.0, weight = 0.0
        for (i, a) in alpha.enumerated() where a > 0 {
            lum += Double(0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2])
            weight += Double(a)
        }
        let background: Float = weight > 0 && lum / weight < 0.5 ? 1 : 0
        guard background > 0 else { return }
        for (i, a) in alpha.enumerated() where a < 1 { for c in 0..<3 { rgb[3 * i + c] += background * (1 - a) } }
    }

    static func message(_ img: png_image) -> String {
        withUnsafeBytes(of: img.message) { raw in
            let s = String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            return s.isEmpty ? "libpng reported an error" : s
        }
    }

    /// Encodes an image (1 or 3 channels, values clamped to [0,1]) as 8- or 16-bit PNG bytes.
    public static func encode(_ image: Image, bitDepth: Int = 8) throws -> Data {
        precondition(image.channels == 1 || image.channels == 3, "PNG.encode: 1 or 3 channels")
        precondition(bitDepth == 8 || bitDepth == 16, "PNG.encode: bit depth 8 or 16")
        var img = png_image()
        img.version = png_uint_32(CPNG_IMAGE_VERSION)
        img.width = png_uint_32(image.width)
        img.height = png_uint_32(image.height)
        let gray = image.channels == 1
        func run(
            _ body: (UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>, UnsafeRawPointer) -> Int32,
            _ buffer: UnsafeRawPointer
        ) throws -> Data {
            var bytes = 0
            guard body(nil, &bytes, buffer) != 0 else { throw MediaError("<png>", "encode failed: \(message(img))") }
            var out = Data(count: bytes)
            let ok = out.withUnsafeMutableBytes { body($0.baseAddress, &bytes, buffer) }
            guard ok != 0 else { throw MediaError("<png>", "encode failed: \(message(img))") }
            return out.prefix(bytes)
        }
        if bitDepth == 8 {
            img.format = png_uint_32(gray ? CPNG_FORMAT_GRAY : CPNG_FORMAT_RGB)
            let buf = image.pixels.map { UInt8((min(max($0, 0), 1) * 255).rounded()) }
            return try buf.withUnsafeBytes { b in
                try run({ png_image_write_to_memory(&img, $0, $1, 0, $2, 0, nil) }, b.baseAddress!)
            }
        } else {
            img.format = png_uint_32(gray ? CPNG_FORMAT_LINEAR_Y : CPNG_FORMAT_LINEAR_RGB)
            let buf = image.pixels.map { UInt16((min(max($0, 0), 1) * 65535).rounded()) }
            return try buf.withUnsafeBytes { b in
                try run({ png_image_write_to_memory(&img, $0, $1, 0, $2, 0, nil) }, b.baseAddress!)
            }
        }
    }

    /// Writes a PNG atomically (temp file + rename).
    ///
    ///     try PNG.write(img, to: "out/sample.png")
    public static func write(_ image: Image, to path: String, bitDepth: Int = 8) throws {
        let data: Data
        do { data = try encode(image, bitDepth: bitDepth) } catch let e as MediaError {
            throw MediaError(path, e.reason)
        }
        do { try writeFileAtomically(data, to: path) } catch let e as FileWriteError {
            throw MediaError(path, e.reason)
        }
    }
}

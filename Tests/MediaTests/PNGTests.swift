// PNG decoding of every colour type / bit depth / interlace against recomputed pixel values, the
// writer's round trip, and hostile files (each must give "file: reason", never a crash).
// The fixtures are written by scripts/make-png-fixtures.py.
import XCTest
import Tensor
@testable import Media

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

final class PNGTests: XCTestCase {
    let W = 7, H = 5
    func pattern(_ levels: Int, _ x: Int, _ y: Int) -> Int { (x * 5 + y * 3) % levels }
    func lum(_ r: Double, _ g: Double, _ b: Double) -> Double { 0.299 * r + 0.587 * g + 0.114 * b }

    func expectGray(_ name: String, _ f: (Int, Int) -> Double, file: StaticString = #filePath, line: UInt = #line)
        throws
    {
        let img = try PNG.read("\(fixtures)/png/\(name).png", as: .gray)
        XCTAssertEqual(img.width, W, file: file, line: line)
        XCTAssertEqual(img.height, H, file: file, line: line)
        var maxDiff = 0.0
        for y in 0..<H { for x in 0..<W { maxDiff = max(maxDiff, abs(Double(img[x: x, y: y]) - f(x, y))) } }
        XCTAssertLessThan(maxDiff, 2e-3, "\(name): maxdiff \(maxDiff)", file: file, line: line)
    }

    /// Expected gray values of an image with transparency: colour (luminance) and alpha per pixel,
    /// composited over white when the visible content is dark on average, else over black.
    func expectComposited(
        _ name: String, _ f: @escaping (Int, Int) -> (lum: Double, alpha: Double),
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        var sum = 0.0, weight = 0.0
        for y in 0..<H {
            for x in 0..<W {
                let p = f(x, y)
                if p.alpha > 0 {
                    sum += p.lum * p.alpha
                    weight += p.alpha
                }
            }
        }
        let bg = weight > 0 && sum / weight < 0.5 ? 1.0 : 0.0
        try expectGray(
            name,
            { x, y in
                let p = f(x, y)
                return p.lum * p.alpha + bg * (1 - p.alpha)
            }, file: file, line: line)
    }

    func testEveryColourTypeAndBitDepth() throws {
        for d in [1, 2, 4, 8, 16] {
            let m = Double((1 << d) - 1)
            try expectGray("gray\(d)") { x, y in Double(self.pattern(1 << d, x, y)) / m }
        }
        for d in [8, 16] {
            let m = (1 << d) - 1, md = Double(m)
            try expectComposited("gray_alpha\(d)") { x, y in
                let v = self.pattern(m + 1, x, y)
                return (Double(v) / md, Double(m - v / 2) / md)
            }
            let rgb: (Int, Int) -> Double = { x, y in
                let v = self.pattern(m + 1, x, y)
                return self.lum(Double(v), Double((v * 7) % (m + 1)), Double(m - v)) / md
            }
            try expectGray("rgb\(d)", rgb)
            try expectGray("rgb\(d)_interlaced", rgb)
            try expectComposited("rgba\(d)") { x, y in
                let v = self.pattern(m + 1, x, y)
                return (self.lum(Double(v), 0, md) / md, Double((m * (x + 1)) / self.W) / md)
            }
        }
        let pal: [(Double, Double, Double)] = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 1)]
        try expectGray("palette") { x, y in
            let c = pal[self.pattern(5, x, y)]
            return self.lum(c.0, c.1, c.2)
        }
        try expectGray("palette2") { x, y in
            let c = pal[self.pattern(4, x, y)]
            return self.lum(c.0, c.1, c.2)
        }
        let alpha: [Double] = [1, 128.0 / 255, 1, 0, 1]
        try expectComposited("palette_trns") { x, y in
            let i = self.pattern(5, x, y)
            let c = pal[i]
            return (self.lum(c.0, c.1, c.2), alpha[i])
        }
        try expectGray("gray8_interlaced") { x, y in Double(self.pattern(256, x, y)) / 255 }
    }

    /// A tRNS colour of a gray or RGB image is a real colour: light strokes on a dark background keyed
    /// transparent read as drawn (dark background, light strokes), never composited over white.
    func testKeyedColourIsShownAsDrawn() throws {
        let ink: (Int, Int) -> Bool = { x, y in self.pattern(3, x, y) == 0 }
        try expectGray("rgb8_key") { x, y in ink(x, y) ? 230.0 / 255 : self.lum(0, 0, 96.0 / 255) }
        try expectGray("rgb16_key") { x, y in ink(x, y) ? 59110.0 / 65535 : self.lum(0, 0, 24672.0 / 65535) }
        try expectGray("gray16_key") { x, y in ink(x, y) ? 60000.0 / 65535 : 8000.0 / 65535 }
        try expectGray("gray2_key") { x, y in ink(x, y) ? 1 : 1.0 / 3 }
        let rgb = try PNG.read("\(fixtures)/png/rgb8_key.png", as: .rgb)
        for (c, expected) in [0, 0, 96.0 / 255].enumerated() {  // pixel (1, 0) is background
            XCTAssertEqual(Double(rgb.pixels[3 + c]), expected, accuracy: 1e-6)
        }
    }

    func testHeaderInfo() throws {
        let i = try PNG.info(path: "\(fixtures)/png/rgba16.png")
        XCTAssertEqual(i, PNGInfo(width: 7, height: 5, bitDepth: 16, colorType: "rgba", interlaced: false))
        XCTAssertEqual(try PNG.info(path: "\(fixtures)/png/gray8_interlaced.png").interlaced, true)
        XCTAssertEqual(try PNG.info(path: "\(fixtures)/png/palette_trns.png").colorType, "palette")
    }

    func testRGBModeAndWriterRoundTrip() throws {
        let dir = NSTemporaryDirectory() + "dlpipe-png-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SeededRandom(seed: 1)
        for channels in [1, 3] {
            for depth in [8, 16] {
                let px = (0..<(13 * 9 * channels)).map { _ in rng.nextFloat() }
                let img = Image(width: 13, height: 9, channels: channels, pixels: px)
                let path = "\(dir)/c\(channels)d\(depth).png"
                try PNG.write(img, to: path, bitDepth: depth)
                let back = try PNG.read(path, as: channels == 1 ? .gray : .rgb)
                let tol: Float = depth == 8 ? 0.5 / 255 + 1e-6 : 1e-4
                let maxDiff = zip(back.pixels, px).map { abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(maxDiff, tol, "channels \(channels) depth \(depth)")
                let info = try PNG.info(path: path)
                XCTAssertEqual(info.bitDepth, depth)
                XCTAssertEqual(info.colorType, channels == 1 ? "gray" : "rgb")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".tmp") }, [])
        XCTAssertThrowsError(try PNG.write(Image(width: 2, height: 2), to: dir + "/no/such/dir/x.png")) { e in
            XCTAssertTrue("\(e)".hasPrefix(dir + "/no/such/dir/x.png: "), "\(e)")
        }
    }

    /// A valid PNG's bytes, to damage.
    var good: Data { try! Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/png/rgb8.png")) }

    func ihdr(width: UInt32, height: UInt32, depth: UInt8 = 8, colorType: UInt8 = 0) -> Data {
        var d = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]) + Data("IHDR".utf8)
        for v in [width, height] {
            d += Data([UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)])
        }
        d += Data([depth, colorType, 0, 0, 0, 0, 0, 0, 0])
        return d
    }

    func expectError(_ data: Data, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try PNG.decode(data, file: "bad.png"), file: file, line: line) { e in
            XCTAssertTrue("\(e)".hasPrefix("bad.png: "), "\(e)", file: file, line: line)
            XCTAssertTrue("\(e)".contains(fragment), "expected '\(fragment)' in \(e)", file: file, line: line)
        }
    }

    func testCorruptAndHostileFiles() {
        let g = good
        expectError(Data(), "empty file")  // empty
        expectError(Data("GIF89a not a png at all".utf8), "not a PNG")  // wrong format
        expectError(g.prefix(20), "truncated")  // cut inside IHDR
        expectError(g.prefix(g.count - 30), "invalid PNG")  // cut inside IDAT
        var crc = g
        crc[29] ^= 0xFF
        expectError(crc, "CRC")  // IHDR CRC
        var idat = g
        idat[idat.count - 20] ^= 0x55
        expectError(idat, "invalid PNG")  // compressed data
        expectError(ihdr(width: 0, height: 10), "zero size")
        expectError(ihdr(width: 100_000, height: 100_000), "limit is 16384")
        expectError(ihdr(width: 16000, height: 16000), "pixels; the limit")
        expectError(ihdr(width: 10, height: 10, depth: 16, colorType: 3), "invalid colour type 3 with bit depth 16")
        expectError(ihdr(width: 10, height: 10, depth: 7), "invalid colour type")
        var len = g
        len[11] = 12
        expectError(len, "13-byte IHDR")  // IHDR length field
        XCTAssertThrowsError(try PNG.read("/nonexistent/x.png")) { XCTAssertTrue("\($0)".contains("No such file")) }
        XCTAssertThrowsError(try PNG.read(fixtures)) { XCTAssertTrue("\($0)".contains("not a regular file")) }
    }

    func testRandomMutationsNeverCrashOrHang() {
        // Bit flips, truncations, byte overwrites and chunk-length edits of a valid file; seeded.
        let g = good
        var rng = SeededRandom(seed: 2024)
        var rejected = 0
        let cases = 20_000
        for i in 0..<cases {
            var d = g
            switch i % 4 {
            case 0: d = d.prefix(rng.nextInt(d.count))
            case 1:
                for _ in 0..<(1 + rng.nextInt(4)) {
                    let j = rng.nextInt(d.count)
                    d[j] ^= UInt8(1 << rng.nextInt(8))
                }
            case 2: d[8 + rng.nextInt(d.count - 8)] = UInt8(rng.nextInt(256))
            default:
                // Overwrite a chunk length (IHDR at 8, IDAT follows) with a random 32-bit value.
                let at = [8, 33][rng.nextInt(2)]
                for k in 0..<4 { d[at + k] = UInt8(rng.nextInt(256)) }
            }
            do { _ = try PNG.decode(d, file: "m.png") } catch {
                rejected += 1
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix("m.png: ") && text.count > "m.png: ".count, "case \(i): \(text)")
            }
        }
        XCTAssertGreaterThan(rejected, cases / 2)
    }
}

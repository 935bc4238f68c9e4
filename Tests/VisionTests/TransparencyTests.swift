// A digit drawn on a transparent sheet (ink in alpha): composited over black, black ink would vanish and
// the model answer "1" at 99.997 %. Both black and white ink on transparency classify like the plain
// digit, and a sheet with no ink is reported as blank.
import XCTest
import Tensor
import Media
@testable import Pipeline
@testable import Vision

/// An RGBA PNG with stored (uncompressed) deflate blocks: enough for a test fixture, no zlib needed.
func rgbaPNG(width: Int, height: Int, _ pixel: (Int, Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8)) -> Data {
    func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
    func crc(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }
    func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        be32(UInt32(body.count)) + Array(type.utf8) + body + be32(crc(Array(type.utf8) + body))
    }
    var raw: [UInt8] = []
    for y in 0..<height {
        raw.append(0)
        for x in 0..<width {
            let p = pixel(x, y)
            raw += [p.r, p.g, p.b, p.a]
        }
    }
    var z: [UInt8] = [0x78, 0x01]
    var a: UInt32 = 1, b: UInt32 = 0
    for v in raw {
        a = (a + UInt32(v)) % 65521
        b = (b + a) % 65521
    }
    var k = 0
    repeat {
        let n = min(65535, raw.count - k)
        z +=
            [k + n == raw.count ? 1 : 0, UInt8(n & 255), UInt8(n >> 8), UInt8(~n & 255), UInt8((~n >> 8) & 255)]
            + raw[k..<k + n]
        k += n
    } while k < raw.count
    z += be32(b << 16 | a)
    let ihdr = be32(UInt32(width)) + be32(UInt32(height)) + [8, 6, 0, 0, 0]
    return Data(
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", z) + chunk("IEND", []))
}

final class TransparencyTests: XCTestCase {
    func testInkOnTransparencyClassifiesLikeThePlainDigit() throws {
        let dir = NSTemporaryDirectory() + "dlpipe-alpha-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/in", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func run(_ conf: String) throws -> RunSummary {
            try conf.write(toFile: dir + "/p.conf", atomically: true, encoding: .utf8)
            return try PipelineRunner.run(
                try PipelineConfig.load(dir + "/p.conf", registry: testRegistry),
                progress: ProgressReporter(quiet: true))
        }
        _ = try run(
            """
            stages:
              - read.png: {train: \(fixtureDigits)/train}
              - image.normalize:
              - vision.train: {model: m.safetensors, layers: [{conv: {filters: 8, size: 3}}, {maxpool: 2}, {dense: 32}], epochs: 12, batch_size: 16, learning_rate: 0.003, seed: 3}
            """)
        // Every test digit as itself, as black ink and as white ink on a transparent sheet (28×28, white ink in the file).
        var originals: [String] = []
        for label in ["0", "3", "7"] {
            let folder = "\(fixtureDigits)/test/\(label)"
            for f in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() {
                let img = try PNG.read(folder + "/" + f)
                let name = "\(label)_\(f.dropLast(4))"
                try FileManager.default.copyItem(atPath: folder + "/" + f, toPath: "\(dir)/in/\(name)_plain.png")
                for (ink, suffix) in [(UInt8(0), "black"), (UInt8(255), "white")] {
                    try rgbaPNG(width: img.width, height: img.height) { x, y in
                        (ink, ink, ink, UInt8((img[x: x, y: y] * 255).rounded()))
                    }
                    .write(to: URL(fileURLWithPath: "\(dir)/in/\(name)_\(suffix).png"))
                }
                originals.append(name)
            }
        }
        try rgbaPNG(width: 28, height: 28) { _, _ in (0, 0, 0, 0) }.write(
            to: URL(fileURLWithPath: dir + "/in/empty_sheet.png"))
        let s = try run(
            "stages:\n  - read.png: {path: in}\n  - image.normalize:\n  - vision.classify: {model: m.safetensors}\n  - write.csv: {path: p.csv}\n"
        )
        XCTAssertEqual(s.failures.map { ($0.file as NSString).lastPathComponent }, ["empty_sheet.png"])
        XCTAssertTrue(s.failures.first?.reason.contains("blank image") ?? false)
        var label: [String: String] = [:]
        for row in try String(contentsOfFile: dir + "/p.csv", encoding: .utf8).split(separator: "\n").dropFirst() {
            let f = row.split(separator: ",")
            label[((String(f[0]) as NSString).lastPathComponent as NSString).deletingPathExtension] = String(f[1])
        }
        for name in originals {
            XCTAssertEqual(label[name + "_black"], label[name + "_plain"], name)
            XCTAssertEqual(label[name + "_white"], label[name + "_plain"], name)
        }
        XCTAssertEqual(label.count, 3 * originals.count)
    }
}

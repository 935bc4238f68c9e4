// Image operations and dataset plumbing.
import XCTest
import TestSupport
import Tensor
@testable import Media

final class ImageAndDatasetTests: ScratchFolderTestCase {

    func testAreaResizeAveragesAndBilinearKeepsConstants() {
        let img = Image(width: 4, height: 4, channels: 1, pixels: (0..<16).map(Float.init))
        let small = img.resized(width: 2, height: 2)
        XCTAssertEqual(small.pixels, [2.5, 4.5, 10.5, 12.5])  // mean of each 2×2 block
        let third = img.resized(width: 3, height: 1)  // fractional footprints
        XCTAssertEqual(third.pixels.reduce(0, +) / 3, img.mean, accuracy: 1e-5)
        let flat = Image(width: 5, height: 3, channels: 3, fill: 0.25).resized(width: 13, height: 8)
        XCTAssertTrue(flat.pixels.allSatisfy { abs($0 - 0.25) < 1e-6 })
    }

    /// A dark bar "1" drawn on light paper, off-centre, in a 60×40 RGB image.
    func paperDigit() -> Image {
        var img = Image(width: 60, height: 40, channels: 3, fill: 0.9)
        for y in 5..<35 { for x in 40..<46 { for c in 0..<3 { img[x: x, y: y, c: c] = 0.1 } } }
        return img
    }

    func testMNISTNormalisation() {
        let n = paperDigit().mnistNormalized()
        XCTAssertEqual([n.width, n.height, n.channels], [28, 28, 1])
        var minX = 28, maxX = -1, minY = 28, maxY = -1, m = 0.0, mx = 0.0, my = 0.0
        for y in 0..<28 {
            for x in 0..<28 where n[x: x, y: y] > 0.2 {
                minX = min(minX, x)
                maxX = max(maxX, x)
                minY = min(minY, y)
                maxY = max(maxY, y)
            }
        }
        for y in 0..<28 {
            for x in 0..<28 {
                let v = Double(n[x: x, y: y])
                m += v
                mx += v * Double(x)
                my += v * Double(y)
            }
        }
        XCTAssertEqual(maxY - minY + 1, 20, "the longer side fills the 20-pixel box")
        XCTAssertEqual(maxX - minX + 1, 4, accuracy: 1, "aspect ratio kept (30:6 → 20:4)")
        XCTAssertEqual(mx / m, 13.5, accuracy: 1.0)
        XCTAssertEqual(my / m, 13.5, accuracy: 1.0)
        XCTAssertEqual(n.pixels.max()!, 1, accuracy: 0.05, "ink stretched to full contrast, light paper → black")
        XCTAssertEqual(n[x: 0, y: 0], 0)
        // Already-dark background (MNIST-like) is not inverted: same result as the inverted paper.
        var dark = paperDigit()
        dark.pixels = dark.pixels.map { 1 - $0 }
        XCTAssertEqual(dark.mnistNormalized().pixels, n.pixels)
        XCTAssertTrue(
            Image(width: 10, height: 10, fill: 0.5).mnistNormalized().pixels.allSatisfy { $0 == 0 }, "blank → empty")
    }

    func testAffineAugmentationIsSeededAndIdentityWhenZero() {
        let img = paperDigit().gray()
        var a = SeededRandom(seed: 5), b = SeededRandom(seed: 5), c = SeededRandom(seed: 6)
        let x = img.randomAffine(rotation: 15, shift: 3, scale: 0.9...1.1, rng: &a)
        XCTAssertEqual(x, img.randomAffine(rotation: 15, shift: 3, scale: 0.9...1.1, rng: &b))
        XCTAssertNotEqual(x, img.randomAffine(rotation: 15, shift: 3, scale: 0.9...1.1, rng: &c))
        var r = SeededRandom(seed: 1)
        let same = img.randomAffine(rotation: 0, shift: 0, scale: 1...1, rng: &r)
        XCTAssertEqual(zip(same.pixels, img.pixels).map { abs($0 - $1) }.max()!, 0, accuracy: 1e-5)
    }

    func testMontageLayout() {
        let tiles = (0..<5).map { Image(width: 3, height: 2, channels: 1, fill: Float($0) / 4) }
        let m = Image.montage(tiles, columns: 2, padding: 1)
        XCTAssertEqual([m.width, m.height], [2 * 3 + 3, 3 * 2 + 4])
        XCTAssertEqual(m[x: 1, y: 1], 0)
        XCTAssertEqual(m[x: 5, y: 1], 0.25)
        XCTAssertEqual(m[x: 1, y: 7], 1)
    }

    func testLabelsComeOnlyFromTheParentFolder() throws {
        for label in ["1", "10", "2"] {
            try FileManager.default.createDirectory(
                atPath: "\(dir!)/\(label)/deeper", withIntermediateDirectories: true)
            try PNG.write(Image(width: 2, height: 2), to: "\(dir!)/\(label)/a.png")
        }
        // Not directly in a label folder:
        try PNG.write(Image(width: 2, height: 2), to: "\(dir!)/10/deeper/ignored.png")
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(dir!)/1/notes.txt"))
        let files = try FileList.labeledFolders(dir, extensions: ["png"])
        XCTAssertEqual(files.map { $0.label }, ["1", "2", "10"])  // natural order, exact names
        XCTAssertEqual(files.map { ($0.path as NSString).lastPathComponent }, ["a.png", "a.png", "a.png"])
        XCTAssertThrowsError(try FileList.labeledFolders(dir + "/none", extensions: ["png"])) {
            XCTAssertTrue("\($0)".contains("no such folder"))
        }
    }

    func testManifestParsingAndErrors() throws {
        let m = dir + "/list.csv"
        try "file,label\nimgs/a.png,cat\r\n/abs/b.png, dog\n\n# comment\n".write(
            toFile: m, atomically: true, encoding: .utf8)
        XCTAssertEqual(
            try FileList.manifest(m),
            [LabeledFile(path: dir + "/imgs/a.png", label: "cat"), LabeledFile(path: "/abs/b.png", label: "dog")])
        try "a.png,cat\nb.png\n".write(toFile: m, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FileList.manifest(m)) {
            XCTAssertEqual("\($0)", "\(m):2: expected 'file,label', got 'b.png'")
        }
    }

    func testIDXReaderChecksSizes() throws {
        let path = dir + "/t.idx"
        var d = Data([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2]) + Data((0..<8).map { UInt8($0 * 30) })
        try d.write(to: URL(fileURLWithPath: path))
        let (shape, values) = try IDX.read(path)
        XCTAssertEqual(shape, [2, 2, 2])
        XCTAssertEqual(values.count, 8)
        d.removeLast()
        try d.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try IDX.read(path)) {
            XCTAssertTrue("\($0)".contains("needs 8 bytes, file has 7"), "\($0)")
        }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try IDX.read(path)) { XCTAssertTrue("\($0)".contains("too short")) }
    }
}

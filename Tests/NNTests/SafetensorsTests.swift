// Checkpoint round trip, PyTorch naming, Python interoperability, and hostile headers.
import XCTest
import TestSupport
import Tensor
@testable import NN

final class SmallNet: Layer {
    let conv1 = Conv2D(1, 4, kernelSize: 3, seed: 1)
    let bn1 = BatchNorm2D(4)
    let fc1 = Dense(4 * 13 * 13, 10, seed: 2)
    var children: [(String, Module)] { [("conv1", conv1), ("bn1", bn1), ("fc1", fc1)] }
    func callAsFunction(_ x: Tensor) -> Tensor {
        fc1(bn1(conv1(x)).relu().maxPool2d(2).reshaped([x.shape[0], -1]))
    }
}

final class SafetensorsTests: ScratchFolderTestCase {

    func testStateDictUsesPyTorchNamesAndLayouts() {
        let names = Dictionary(uniqueKeysWithValues: SmallNet().stateDict().map { ($0.0, $0.1.shape) })
        XCTAssertEqual(names["conv1.weight"], [4, 1, 3, 3])
        XCTAssertEqual(names["fc1.weight"], [10, 676])
        XCTAssertEqual(names["bn1.running_mean"], [4])
        XCTAssertEqual(names["bn1.running_var"], [4])
        XCTAssertEqual(names.count, 8)
    }

    func testRoundTripRestoresIdenticalOutputs() throws {
        let a = SmallNet(), b = SmallNet()
        b.conv1.weight.data[0] += 1  // make them differ
        let x = Tensor.uniform([2, 1, 28, 28], seed: 3)
        _ = a(x)  // training step changes running stats
        a.eval()
        b.eval()
        let path = dir + "/net.safetensors"
        try a.save(to: path, metadata: ["model": "SmallNet"])
        try b.load(from: path)
        XCTAssertEqual(a(x).scalars, b(x).scalars)
        XCTAssertEqual(try Safetensors.read(path).metadata["model"], "SmallNet")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".tmp") }
        XCTAssertEqual(leftovers, [])
    }

    func testLoadsInPythonSafetensorsNumpy() throws {
        let path = dir + "/net.safetensors"
        try SmallNet().save(to: path)
        let script = """
            from safetensors.numpy import load_file
            d = load_file('\(path)')
            print(','.join(f'{k}:{"x".join(map(str, v.shape))}:{v.dtype}' for k, v in sorted(d.items())))
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        p.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, "python3 with safetensors must be installed (.ci/run installs it)")
        XCTAssertTrue(out.contains("conv1.weight:4x1x3x3:float32"), out)
        XCTAssertTrue(out.contains("fc1.weight:10x676:float32"), out)
        XCTAssertTrue(out.contains("bn1.running_var:4:float32"), out)
    }

    /// A valid file with a replaced header (length recomputed unless `rawLength` is given).
    func file(header: String, data: [UInt8] = Array(repeating: 0, count: 8), rawLength: UInt64? = nil) -> Data {
        var d = Data()
        var len = (rawLength ?? UInt64(header.utf8.count)).littleEndian
        withUnsafeBytes(of: &len) { d.append(contentsOf: $0) }
        d.append(Data(header.utf8))
        d.append(contentsOf: data)
        return d
    }

    func expectError(_ data: Data, _ fragment: String, file f: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Safetensors.decode(data, file: "bad.safetensors"), file: f, line: line) { e in
            let msg = "\(e)"
            XCTAssertTrue(msg.hasPrefix("bad.safetensors: "), msg, file: f, line: line)
            XCTAssertTrue(msg.contains(fragment), "expected '\(fragment)' in: \(msg)", file: f, line: line)
        }
    }

    func testCorruptHeadersGiveClearErrors() {
        let ok = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        XCTAssertNoThrow(try Safetensors.decode(file(header: ok), file: "ok"))
        expectError(Data([1, 2, 3]), "too short")
        expectError(file(header: ok, rawLength: 1 << 40), "not plausible")
        expectError(file(header: ok, rawLength: 500), "past the end")
        expectError(file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#), "not well-formed JSON")
        expectError(file(header: #"[1,2]"#), "not a JSON object")
        expectError(file(header: #"{"a":{"dtype":"Q99","shape":[2],"data_offsets":[0,8]}}"#), "unknown dtype 'Q99'")
        expectError(file(header: #"{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}"#), "not supported")
        expectError(file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,800]}}"#), "outside")
        expectError(file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#), "needs 12 bytes")
        expectError(file(header: #"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#), "non-negative")
        expectError(
            file(header: #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#),
            "larger than the file")
        expectError(
            file(
                header:
                    #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
            ),
            "overlaps")
        expectError(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#), "not described")
        expectError(file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}}"#), "data_offsets")
        expectError(file(header: #"{"__metadata__":{"k":3}}"#, data: []), "not a string")
        // From a file: an empty one is refused by its size.
        let empty = NSTemporaryDirectory() + "dlpipe-empty-\(getpid()).safetensors"
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        defer { unlink(empty) }
        XCTAssertThrowsError(try Safetensors.read(empty)) {
            XCTAssertEqual("\($0)", "\(empty): file is 0 bytes, too short for a safetensors header")
        }
    }

    func testRandomlyDamagedFilesNeverCrash() throws {
        let good = Safetensors.encode(SmallNet().stateDict())
        var rng = SeededRandom(seed: 7)
        var rejected = 0
        for i in 0..<2000 {
            var d = good
            switch i % 3 {
            case 0: d = d.prefix(rng.nextInt(d.count))
            case 1:
                for _ in 0..<4 {
                    let j = rng.nextInt(min(d.count, 600))
                    d[j] ^= UInt8(1 << rng.nextInt(8))
                }
            default:
                let j = rng.nextInt(min(d.count, 600))
                d[j] = UInt8(rng.nextInt(256))
            }
            if (try? Safetensors.decode(d, file: "m")) == nil { rejected += 1 }
        }
        XCTAssertGreaterThan(rejected, 500)
    }

    func testLoadRejectsMismatchedCheckpoint() throws {
        let path = dir + "/other.safetensors"
        try Safetensors.write([("conv1.weight", .zeros([2, 1, 3, 3]))], to: path)
        XCTAssertThrowsError(try SmallNet().load(from: path)) { e in
            XCTAssertTrue("\(e)".contains("conv1.weight' has shape [2, 1, 3, 3]"), "\(e)")
            XCTAssertTrue("\(e)".contains("'fc1.weight'"), "\(e)")
        }
        XCTAssertThrowsError(try SmallNet().load(from: dir + "/nope.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("nope.safetensors: No such file or directory"), "\(e)")
        }
    }
}

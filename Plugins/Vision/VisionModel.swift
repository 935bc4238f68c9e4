// A trained classifier on disk: safetensors weights (PyTorch state_dict names) plus metadata that
// rebuilds the network: architecture, input shape and class names.
import Foundation
import Tensor
import NN

public enum VisionModel {
    static let format = "dlpipe.vision.v1"

    public static func save(_ net: ConvNet, classes: [String], to path: String) throws {
        let enc = JSONEncoder()
        let meta = [
            "format": format,
            "layers": String(decoding: try enc.encode(net.specs), as: UTF8.self),
            "input": String(decoding: try enc.encode(net.inputShape), as: UTF8.self),
            "classes": String(decoding: try enc.encode(classes), as: UTF8.self),
        ]
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try net.save(to: path, metadata: meta)
    }

    /// Loads a model written by `save` (errors name the file).
    public static func load(_ path: String) throws -> (ConvNet, [String]) {
        let (tensors, meta) = try Safetensors.read(path)
        func field<T: Decodable>(_ k: String, _ t: T.Type) throws -> T {
            guard let s = meta[k] else { throw VisionError.model("\(path): not a dlpipe vision model (no '\(k)' in metadata)") }
            do { return try JSONDecoder().decode(T.self, from: Data(s.utf8)) }
            catch { throw VisionError.model("\(path): metadata '\(k)' is malformed") }
        }
        guard meta["format"] == format else {
            throw VisionError.model("\(path): not a dlpipe vision model (format '\(meta["format"] ?? "none")')")
        }
        let specs = try field("layers", [LayerSpec].self)
        let input = try field("input", [Int].self)
        let classes = try field("classes", [String].self)
        guard input.count == 3, input.allSatisfy({ $0 > 0 && $0 <= 4096 }), !classes.isEmpty else {
            throw VisionError.model("\(path): metadata has an invalid input shape or no classes")
        }
        let net = try ConvNet(specs: specs, inputShape: input, classes: classes.count, seed: 0)
        try net.load(tensors, file: path)
        net.eval()
        return (net, classes)
    }
}

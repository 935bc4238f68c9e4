// A generator written by gan.train, read back for gan.sample and gan.evaluate: the model file's checks,
// plus the GAN's own metadata (noise size, class names), validated like config input; and the class
// names as gan.train writes them.
import Foundation
import Tensor
import Pipeline
import Training
import FilesAndText

enum GeneratorFile {
    static func load(_ path: String, for stage: String) throws -> (net: Network, shape: GANShape) {
        let (net, model) = try ModelFile.load(path, for: stage, trainer: "gan.train")
        func fail(_ m: String) -> StageError { StageError(stage, "\(path): \(m)") }
        guard model.task == "gan.train" else { throw fail("a \(model.task) model, not a generator from gan.train") }
        guard let ns = model.preprocessing["noise"], let noise = Int(ns), (1...4096).contains(noise) else {
            throw fail("metadata 'preprocessing' lacks a noise size 1…4096")
        }
        guard case .array(let items)? = JSONValue.parse(model.preprocessing["classes"] ?? "[]") else {
            throw fail("metadata 'preprocessing.classes' is not a JSON list")
        }
        let classes = try items.map { v -> String in
            guard case .string(let s) = v, !s.isEmpty, s.utf8.count <= 256 else {
                throw fail("metadata 'preprocessing.classes' must hold non-empty strings")
            }
            return s
        }
        guard Set(classes).count == classes.count, classes.count != 1 else {
            throw fail("metadata 'preprocessing.classes' names a class twice or only one")
        }
        guard model.inputShape == [noise + classes.count] else {
            throw fail("its input \(model.inputShape) is not \(noise) noise values plus \(classes.count) classes")
        }
        let out = net.outputShape
        guard out.count == 3, out[0] == 1 || out[0] == 3 else {
            throw fail("it makes \(out), not images [1 or 3, H, W]")
        }
        return (net, GANShape(noise: noise, image: out, classes: classes))
    }
}

extension GANShape {
    /// Class names as a JSON list, for the generator's model-file metadata.
    static func classesJSON(_ classes: [String]) -> String {
        "[" + classes.map(jsonQuoted).joined(separator: ",") + "]"
    }
}

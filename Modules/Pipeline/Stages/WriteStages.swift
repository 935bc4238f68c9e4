// Output stages. Everything is collected and written once, atomically, at the end of the run, so an
// interrupted run never leaves a half-written file.
import Foundation
import Media
import Tensor

public func makeParentFolder(_ path: String) throws {
    let dir = (path as NSString).deletingLastPathComponent
    if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
}

func csvField(_ s: String) -> String {
    s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}

final class WriteCSV: Stage {
    let path: String
    var rows: [String] = []
    var width = 1
    init(_ o: StageOptions) { path = o.string("path") }
    static let spec = StageSpec(
        name: "write.csv", summary: "Write predictions as CSV: file,label,confidence then the next most likely labels",
        consumes: [.prediction], produces: .none,
        options: [OptionSpec("path", .path, required: true, doc: "output CSV file (written atomically)")],
        make: { WriteCSV($0) })
    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let p = item.prediction else { return }
        width = max(width, p.top.count)
        var r = [csvField(item.file), csvField(p.label), String(format: "%.6f", p.confidence)]
        for t in p.top.dropFirst() { r += [csvField(t.label), String(format: "%.6f", t.probability)] }
        rows.append(r.joined(separator: ","))
    }
    func finish(_ ctx: RunContext, emit: Emit) throws {
        var header = ["file", "label", "confidence"]
        for k in stride(from: 2, through: width, by: 1) { header += ["label\(k)", "confidence\(k)"] }
        let text = ([header.joined(separator: ",")] + rows).joined(separator: "\n") + "\n"
        do { try makeParentFolder(path); try writeFileAtomically(Data(text.utf8), to: path) }
        catch { throw StageError("write.csv", "\(path): \(error)") }
        ctx.progress.info("wrote \(rows.count) predictions to \(path)")
    }
}

final class WriteJSONL: Stage {
    let path: String
    var lines: [String] = []
    init(_ o: StageOptions) { path = o.string("path") }
    static let spec = StageSpec(
        name: "write.jsonl", summary: "Write predictions as JSON lines {file, label, confidence, top:[{label, p}], logits:[…]}",
        consumes: [.prediction], produces: .none,
        options: [OptionSpec("path", .path, required: true, doc: "output .jsonl file (written atomically)")],
        make: { WriteJSONL($0) })
    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let p = item.prediction else { return }
        let top = p.top.map { "{\"label\":\(jsonQuoted($0.label)),\"p\":\(String(format: "%.6f", $0.probability))}" }.joined(separator: ",")
        let logits = p.logits.isEmpty ? "" : ",\"logits\":[" + p.logits.map { String(format: "%.7g", $0) }.joined(separator: ",") + "]"
        lines.append("{\"file\":\(jsonQuoted(item.file)),\"label\":\(jsonQuoted(p.label)),\"confidence\":\(String(format: "%.6f", p.confidence)),\"top\":[\(top)]\(logits)}")
    }
    func finish(_ ctx: RunContext, emit: Emit) throws {
        do { try makeParentFolder(path); try writeFileAtomically(Data((lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).utf8), to: path) }
        catch { throw StageError("write.jsonl", "\(path): \(error)") }
        ctx.progress.info("wrote \(lines.count) predictions to \(path)")
    }
}

final class WritePNG: Stage {
    let folder: String
    let montage: String?
    var images: [Image] = []
    var count = 0
    init(_ o: StageOptions) { folder = o.string("folder"); montage = o.optionalString("montage") }
    static let spec = StageSpec(
        name: "write.png", summary: "Write each image to a folder as PNG (and optionally a montage of all)",
        consumes: [.image], produces: .image,
        options: [OptionSpec("folder", .path, required: true, doc: "output folder; files keep their base names"),
                  OptionSpec("montage", .path, doc: "also write one grid image of the first 100 images here")],
        make: { WritePNG($0) })
    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        if let img = item.image {
            let base = ((item.file as NSString).lastPathComponent as NSString).deletingPathExtension
                .replacingOccurrences(of: "#", with: "_")
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try PNG.write(img, to: "\(folder)/\(base).png")
            } catch { throw StageError("write.png", "\(error)") }
            count += 1
            if montage != nil && images.count < 100 { images.append(img) }
        }
        try emit(item)
    }
    func finish(_ ctx: RunContext, emit: Emit) throws {
        if let m = montage, !images.isEmpty {
            let same = images.filter { $0.width == images[0].width && $0.height == images[0].height && $0.channels == images[0].channels }
            do { try makeParentFolder(m); try PNG.write(Image.montage(same, columns: 10), to: m) }
            catch { throw StageError("write.png", "\(error)") }
        }
        ctx.progress.info("wrote \(count) PNG files to \(folder)")
    }
}

/// Registers the stages built into the pipeline module (reading, image transforms, writing).
public func registerBuiltinStages(_ r: StageRegistry) {
    for s in [ReadPNG.spec, ReadIDX.spec, ImageNormalize.spec, ImageResize.spec, WriteCSV.spec, WriteJSONL.spec, WritePNG.spec,
              ReadAudio.spec, AudioFeatures.mfccSpec, AudioFeatures.melSpec, WriteFeatures.spec] {
        r.register(s)
    }
}

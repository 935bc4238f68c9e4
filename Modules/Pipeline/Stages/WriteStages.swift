// Output stages. Every file is written atomically (temp name, fsync, rename), so an interrupted run never
// leaves a half-written file. write.csv and write.jsonl collect their rows and write once at the end;
// write.png writes each image as it arrives (holding them all could need any amount of memory).
import Foundation
import Media
import Tensor
import FilesAndText

/// A write failure as a stage error, naming the path once (FileWriteError and MediaError name it already).
public func writeFailure(_ stage: String, _ path: String, _ error: Error) -> StageError {
    let text = "\(error)"
    return StageError(stage, text.contains(path) || error is FileWriteError ? text : "\(path): \(text)")
}

func csvField(_ s: String) -> String {
    s.contains(",") || s.contains("\"") || s.contains("\n")
        ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}

final class WriteCSV: Stage {
    let path: String
    var rows: [String] = []
    var width = 1
    init(_ o: StageOptions) { path = o.string("path") }
    static let spec = StageSpec(
        name: "write.csv", summary: "Write predictions as CSV: file,label,confidence then the next most likely labels",
        consumes: [.prediction], produces: .none,
        options: [OptionSpec("path", .outputFile, required: true, doc: "output CSV file (written atomically)")],
        serving: .replacedByResults,
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
        do {
            try makeParentFolder(path)
            try writeFileAtomically(Data(text.utf8), to: path)
        } catch { throw writeFailure("write.csv", path, error) }
        ctx.progress.info("wrote \(rows.count) predictions to \(path)")
    }
}

final class WriteJSONL: Stage {
    let path: String
    var lines: [String] = []
    init(_ o: StageOptions) { path = o.string("path") }
    static let spec = StageSpec(
        name: "write.jsonl",
        summary: "Write predictions as JSON lines {file, label, confidence, top:[{label, p}], logits:[…]}",
        consumes: [.prediction], produces: .none,
        options: [OptionSpec("path", .outputFile, required: true, doc: "output .jsonl file (written atomically)")],
        serving: .replacedByResults,
        make: { WriteJSONL($0) })
    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let p = item.prediction else { return }
        let top = p.top.map {
            "{\"label\":\(jsonQuoted($0.label)),\"p\":\(jsonNumber(Double($0.probability), format: "%.6f"))}"
        }.joined(separator: ",")
        let logits =
            p.logits.isEmpty
            ? ""
            : ",\"logits\":[" + p.logits.map { jsonNumber(Double($0), format: "%.7g") }.joined(separator: ",") + "]"
        lines.append(
            "{\"file\":\(jsonQuoted(item.file)),\"label\":\(jsonQuoted(p.label)),\"confidence\":\(jsonNumber(Double(p.confidence), format: "%.6f")),\"top\":[\(top)]\(logits)}"
        )
    }
    func finish(_ ctx: RunContext, emit: Emit) throws {
        do {
            try makeParentFolder(path)
            try writeFileAtomically(Data((lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).utf8), to: path)
        } catch { throw writeFailure("write.jsonl", path, error) }
        ctx.progress.info("wrote \(lines.count) predictions to \(path)")
    }
}

final class WritePNG: Stage {
    let folder: String
    let montage: String?
    var montageImages: [Image] = []
    /// Width, height, channels of the montage's first image; others of that shape join it.
    var montageShape: [Int]?
    var used = Set<String>()
    var count = 0
    init(_ o: StageOptions) {
        folder = o.string("folder")
        montage = o.optionalString("montage")
    }
    static let spec = StageSpec(
        name: "write.png", summary: "Write each image to a folder as PNG (and optionally a montage of the first 100)",
        consumes: [.image], produces: .image,
        options: [
            OptionSpec(
                "folder", .outputFolder, required: true,
                doc: "output folder; files keep their base names, made unique within the run"),
            OptionSpec(
                "montage", .outputFile,
                doc: "also write one grid image of the first 100 images (at most 256×256 each) here"),
        ],
        serving: .writesInto(option: "folder"),
        make: { WritePNG($0) })

    /// A file name no other image of this run has: the input's base name ("imgs.idx#7" → "imgs_7"),
    /// then "-2", "-3", … for a base name seen before (a/1.png and b/1.png).
    func uniqueName(_ file: String) -> String {
        let last = (file as NSString).lastPathComponent
        var stem: String
        if let hash = last.lastIndex(of: "#") {
            stem = ((String(last[..<hash]) as NSString).deletingPathExtension) + "_" + last[last.index(after: hash)...]
        } else {
            stem = (last as NSString).deletingPathExtension
        }
        stem = stem.replacingOccurrences(of: "/", with: "_")
        if stem.isEmpty || stem.hasPrefix(".") { stem = "image" + stem }
        var name = stem, k = 1
        while !used.insert(name).inserted {
            k += 1
            name = "\(stem)-\(k)"
        }
        return name + ".png"
    }

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        if let img = item.image {
            let path = "\(folder)/\(uniqueName(item.file))"
            do {
                try makeFolder(folder)
                try PNG.write(img, to: path)
            } catch { throw writeFailure("write.png", path, error) }
            count += 1
            ctx.countSuccess(item.file)
            let shape = [img.width, img.height, img.channels]
            if montage != nil && montageImages.count < 100 && (montageShape ?? shape) == shape {
                montageShape = shape
                // Thumbnails, so the grid stays small whatever the inputs' sizes (100 × 256² at most).
                let scale = min(1, 256 / Double(max(img.width, img.height)))
                montageImages.append(
                    scale < 1
                        ? img.resized(
                            width: max(1, Int(Double(img.width) * scale)),
                            height: max(1, Int(Double(img.height) * scale))) : img)
            }
        }
        try emit(item)
    }
    func finish(_ ctx: RunContext, emit: Emit) throws {
        if let m = montage, !montageImages.isEmpty {
            do {
                try makeParentFolder(m)
                try PNG.write(Image.montage(montageImages, columns: 10), to: m)
            } catch { throw writeFailure("write.png", m, error) }
        }
        ctx.progress.info("wrote \(count) PNG files to \(folder)")
    }
}

/// Registers the stages built into the pipeline module (reading, image transforms, writing).
public func registerBuiltinStages(_ r: StageRegistry) {
    for s in [
        ReadPNG.spec, ReadIDX.spec, ImageNormalize.spec, ImageResize.spec, WriteCSV.spec, WriteJSONL.spec,
        WritePNG.spec,
        ReadAudio.spec, TrimAudio.spec, NormalizeAudio.spec, AugmentAudio.spec, AudioFeatures.mfccSpec,
        AudioFeatures.melSpec,
        WriteFeatures.spec,
    ] {
        r.register(s)
    }
}

// The files a reading stage's options name — `path` (unlabelled), `train`, `test` and `validation` (label folders),
// `manifest` (CSV) — cut to `limit` per option. A file named twice (say `path` and `train` pointing
// at the same folder) is an error before any work, since its outputs would collide.
import Foundation
import Media

struct InputFile {
    let path: String
    let label: String?
    let split: Split
}

/// Collects the input files of a reading stage; errors name the stage, the option and the file.
func inputFiles(_ o: StageOptions, stage: String, extensions: Set<String>, shard: Shard? = nil) throws -> [InputFile] {
    var out: [InputFile] = []
    var firstOption: [String: String] = [:]
    let limit = o.int("limit")
    func add(_ files: [InputFile], from option: String) throws {
        // The shard is taken after `limit`, so the shards of a limited run together read what it reads.
        for f in limit > 0 ? Array(files.prefix(limit)) : files
        where shard?.contains(relativePath: relative(f.path, to: o.string(option))) ?? true {
            let real = URL(fileURLWithPath: f.path).resolvingSymlinksInPath().path
            if let other = firstOption[real] {
                throw StageError(
                    stage, "\(f.path) is named twice (by '\(other)' and '\(option)'); each input may be read once")
            }
            firstOption[real] = option
            out.append(f)
        }
    }
    do {
        if let p = o.optionalString("path") {
            let files = try FileList.files(p, extensions: extensions)
            if files.isEmpty { throw MediaError(p, "no \(extensions.sorted().joined(separator: "/")) files found") }
            try add(files.map { InputFile(path: $0, label: nil, split: .predict) }, from: "path")
        }
        if let t = o.optionalString("train") {
            try add(
                try FileList.labeledFolders(t, extensions: extensions).map {
                    InputFile(path: $0.path, label: $0.label, split: .train)
                }, from: "train")
        }
        if let m = o.optionalString("manifest") {
            try add(
                try FileList.manifest(m).map { InputFile(path: $0.path, label: $0.label, split: .train) },
                from: "manifest")
        }
        for (option, split) in [("test", Split.test), ("validation", .validation)] {
            guard let t = o.optionalString(option) else { continue }
            try add(
                try FileList.labeledFolders(t, extensions: extensions).map {
                    InputFile(path: $0.path, label: $0.label, split: split)
                }, from: option)
        }
    } catch let e as MediaError {
        throw StageError(stage, e.description + missingDataHint(e))
    }
    return out
}

/// `path` relative to the folder `root` (its file name when `root` is the file itself).
func relative(_ path: String, to root: String) -> String {
    let base = root.hasSuffix("/") ? root : root + "/"
    return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : (path as NSString).lastPathComponent
}

// `dlpipe inspect [--json] FILE...`: header facts and mean gray of PNG files.
import Foundation
import Media
import Pipeline
import Tensor
import FilesAndText

let inspectUsage = """
    usage: dlpipe inspect [--json] FILE...

    For each PNG: width, height, colour type, bit depth, interlace, mean gray 0–255 (alpha over black,
    Rec.601). For each audio file (WAV, FLAC, OGG, AIFF, …): format, sample rate, channels, frames,
    duration, RMS of the mono mix in [-1, 1]. With --json, one JSON object per line:
      {"file":…,"kind":"png","width":…,"height":…,"colorType":"gray|gray+alpha|palette|rgb|rgba","bitDepth":…,"interlaced":…,"meanGray":…}
      {"file":…,"kind":"audio","format":…,"sampleRate":…,"channels":…,"frames":…,"duration":…,"rms":…}
    A bad file prints "FILE: reason" on stderr; the others are still reported; exit status 1.
    """

func inspectCommand(_ args: [String]) -> Int32 {
    var json = false
    var files: [String] = []
    for a in args {
        switch a {
        case "-h", "--help":
            print(inspectUsage)
            return 0
        case "--json": json = true
        default:
            if a.hasPrefix("-") { return usageError("inspect: unknown option '\(a)'") }
            files.append(a)
        }
    }
    guard !files.isEmpty else { return usageError("inspect: which files?\n\n" + inspectUsage) }
    var failed = false
    for f in files {
        do {
            if !isPNG(f) {
                let info = try Audio.info(f)
                let clip = try Audio.read(f)
                if json {
                    print(
                        "{\"file\":\(jsonQuoted(f)),\"kind\":\"audio\",\"format\":\(jsonQuoted(info.format)),\"sampleRate\":\(info.sampleRate),\"channels\":\(info.channels),\"frames\":\(info.frames),\"duration\":\(String(format: "%.6f", info.duration)),\"rms\":\(String(format: "%.6f", clip.rms))}"
                    )
                } else {
                    print(
                        "\(terminalSafe(f)): \(info.format), \(info.sampleRate) Hz, \(info.channels) channel\(info.channels == 1 ? "" : "s"), \(info.frames) frames (\(String(format: "%.3f", info.duration)) s), RMS \(String(format: "%.4f", clip.rms))"
                    )
                }
                continue
            }
            let data = try PNG.readBytes(f, maxBytes: PNG.Limits().maxFileBytes)
            let (img, info) = try PNG.decode(data, file: f, as: .gray)
            let mean = Double(img.mean) * 255
            if json {
                print(
                    "{\"file\":\(jsonQuoted(f)),\"kind\":\"png\",\"width\":\(info.width),\"height\":\(info.height),\"colorType\":\"\(info.colorType)\",\"bitDepth\":\(info.bitDepth),\"interlaced\":\(info.interlaced),\"meanGray\":\(String(format: "%.3f", mean))}"
                )
            } else {
                print(
                    "\(terminalSafe(f)): PNG \(info.width)×\(info.height) \(info.colorType) \(info.bitDepth)-bit\(info.interlaced ? " interlaced" : ""), mean gray \(String(format: "%.2f", mean))"
                )
            }
        } catch {
            printError("\(error)")
            failed = true
        }
    }
    return failed ? 1 : 0
}

/// PNG by signature (or by name when the file cannot be opened, so the error comes from the PNG reader).
func isPNG(_ path: String) -> Bool {
    guard let fh = FileHandle(forReadingAtPath: path) else { return path.lowercased().hasSuffix(".png") }
    defer { try? fh.close() }
    let head = (try? fh.read(upToCount: 8)) ?? Data()
    return head.starts(with: [0x89, 0x50, 0x4E, 0x47]) || (head.count < 4 && path.lowercased().hasSuffix(".png"))
}

// A PNG's keyed transparency: for gray and RGB images (no alpha channel) a tRNS chunk names one colour as
// transparent. libpng's simplified API turns that colour into alpha 0, which would lose it; dlpipe shows a
// keyed colour as drawn (it is a real colour of the picture), and decides a background only for alpha
// channels and palette alpha tables.
import Foundation

/// The colour a gray or RGB PNG keys as transparent, scaled like the decoded samples (1/(2^depth − 1)).
struct PNGColourKey: Equatable {
    let red: Float, green: Float, blue: Float

    /// Walks the chunks after IHDR up to the first IDAT; nil when the image has no keyed colour
    /// (palette and alpha colour types, no tRNS, or a tRNS of the wrong length, which libpng ignores too).
    static func find(in bytes: UnsafeRawBufferPointer, info: PNGInfo) -> PNGColourKey? {
        guard info.colorType == "gray" || info.colorType == "rgb" else { return nil }
        func be32(_ o: Int) -> Int {
            Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
        }
        func be16(_ o: Int) -> Float { Float(Int(bytes[o]) << 8 | Int(bytes[o + 1])) }
        let scale = 1 / Float((1 << info.bitDepth) - 1)
        var offset = 33  // signature (8) + IHDR (4 length, 4 type, 13 data, 4 CRC)
        while offset + 8 <= bytes.count {
            let length = be32(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let data = offset + 8
            guard length >= 0, length <= bytes.count - data else { return nil }
            if type == "IDAT" || type == "IEND" { return nil }
            if type == "tRNS" {
                if info.colorType == "gray", length == 2 {
                    let v = be16(data) * scale
                    return PNGColourKey(red: v, green: v, blue: v)
                }
                if info.colorType == "rgb", length == 6 {
                    return PNGColourKey(
                        red: be16(data) * scale, green: be16(data + 2) * scale, blue: be16(data + 4) * scale)
                }
                return nil
            }
            offset = data + length + 4
        }
        return nil
    }

    /// Gives the pixels libpng made transparent (alpha 0) their keyed colour back, fully opaque.
    func restore(_ rgb: inout [Float], _ alpha: inout [Float]) {
        for i in alpha.indices where alpha[i] == 0 {
            rgb[3 * i] = red
            rgb[3 * i + 1] = green
            rgb[3 * i + 2] = blue
            alpha[i] = 1
        }
    }
}

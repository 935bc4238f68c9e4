// Inline SVG for the report: line charts with labelled axes and ticks, and a confusion heat map.
// Self-contained (no scripts, no external files), so report.html opens anywhere.
import Foundation

/// One line of a chart: values per epoch (nil where there is none).
public struct ChartLine {
    public let name: String, color: String
    public let values: [Double?]
    public init(_ name: String, color: String, values: [Double?]) {
        self.name = name
        self.color = color
        self.values = values
    }
}

enum SVGChart {
    /// Round tick values covering lo…hi (steps of 1, 2 or 5 × 10^k).
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard hi > lo else { return [lo] }
        let raw = (hi - lo) / Double(count), mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = ceil(lo / step) * step, out: [Double] = []
        while t <= hi + step * 1e-9 {
            out.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return out
    }

    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1e4 && abs(v) < 1e7 { return String(format: "%gk", (v / 100).rounded() / 10) }
        if abs(v) >= 1e7 || abs(v) < 1e-3 { return String(format: "%.1e", v) }
        return String(format: "%g", (v * 1e4).rounded() / 1e4)
    }

    /// A line chart over epochs 1…n with a legend.
    static func lines(_ title: String, _ lines: [ChartLine], yLabel: String) -> String {
        let all = lines.flatMap { $0.values.compactMap { $0 } }.filter { $0.isFinite }
        let n = lines.map { $0.values.count }.max() ?? 0
        guard !all.isEmpty, n > 0 else { return "" }
        let w = 460.0, h = 240.0, left = 58.0, right = 14.0, top = 34.0, bottom = 40.0
        var lo = all.min()!, hi = all.max()!
        if lo > 0 && lo < hi * 0.5 { lo = 0 }
        if hi - lo < 1e-12 {
            hi = lo + max(abs(lo) * 0.1, 1e-3)
            lo -= max(abs(lo) * 0.1, 1e-3)
        }
        let yt = ticks(lo, hi)
        lo = min(lo, yt.first ?? lo)
        hi = max(hi, yt.last ?? hi)
        func x(_ i: Int) -> Double { left + (w - left - right) * (n == 1 ? 0.5 : Double(i) / Double(n - 1)) }
        func y(_ v: Double) -> Double { h - bottom - (h - top - bottom) * (v - lo) / (hi - lo) }
        var s =
            "<svg width='\(Int(w))' height='\(Int(h))' viewBox='0 0 \(Int(w)) \(Int(h))' role='img'><title>\(htmlEscape(title))</title>"
        s += "<rect x='0' y='0' width='\(Int(w))' height='\(Int(h))' fill='#fff' stroke='#ccc'/>"
        s += "<text x='\(Int(left))' y='18' font-size='13' font-weight='bold'>\(htmlEscape(title))</text>"
        for t in yt {
            s += String(
                format: "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#eee'/>", left, w - right, y(t), y(t))
            s += String(
                format: "<text x='%.1f' y='%.1f' font-size='10' text-anchor='end'>%@</text>", left - 4, y(t) + 3,
                label(t))
        }
        let xStep = max(1, Int((Double(n) / 8).rounded(.up)))
        for i in stride(from: 0, to: n, by: xStep) {
            s += String(
                format: "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#999'/>", x(i), x(i), h - bottom,
                h - bottom + 4)
            s += String(
                format: "<text x='%.1f' y='%.1f' font-size='10' text-anchor='middle'>%d</text>", x(i), h - bottom + 15,
                i + 1)
        }
        s += String(
            format: "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#999'/>", left, w - right, h - bottom,
            h - bottom)
        s += String(
            format: "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#999'/>", left, left, top, h - bottom)
        s +=
            "<text x='\(Int((left + w - right) / 2))' y='\(Int(h) - 6)' font-size='11' text-anchor='middle'>epoch</text>"
        s += String(
            format:
                "<text x='12' y='%.1f' font-size='11' text-anchor='middle' transform='rotate(-90 12 %.1f)'>%@</text>",
            (top + h - bottom) / 2, (top + h - bottom) / 2, htmlEscape(yLabel))
        for (k, line) in lines.enumerated() {
            let pts = line.values.enumerated().compactMap { i, v in
                v.flatMap { $0.isFinite ? String(format: "%.1f,%.1f", x(i), y($0)) : nil }
            }
            s +=
                "<polyline fill='none' stroke='\(line.color)' stroke-width='2' points='\(pts.joined(separator: " "))'/>"
            for p in pts where n <= 60 {
                let xy = p.split(separator: ",")
                s += "<circle cx='\(xy[0])' cy='\(xy[1])' r='2.5' fill='\(line.color)'/>"
            }
            // The legend sits in the top margin, right of the title, clear of the lines.
            let lx = w - right - 100, ly = 8 + Double(k) * 11
            s += String(format: "<rect x='%.1f' y='%.1f' width='12' height='3' fill='%@'/>", lx, ly, line.color)
            s += String(
                format: "<text x='%.1f' y='%.1f' font-size='10'>%@</text>", lx + 16, ly + 4, htmlEscape(line.name))
        }
        return s + "</svg>"
    }

    static func confusion(_ t: ClassifierEvaluation) -> String {
        let n = t.classes.count, cell = max(14, min(36, 360 / max(n, 1))), off = 60
        let size = off + n * cell + 10
        var s = "<svg width='\(size)' height='\(size)'><title>confusion matrix</title>"
        for i in 0..<n {
            let rowTotal = max(1, t.confusion[i].reduce(0, +))
            s +=
                "<text x='\(off - 6)' y='\(off + i * cell + cell / 2 + 4)' font-size='10' text-anchor='end'>\(htmlEscape(t.classes[i]))</text>"
            s +=
                "<text x='\(off + i * cell + cell / 2)' y='\(off - 6)' font-size='10' text-anchor='middle'>\(htmlEscape(t.classes[i]))</text>"
            for j in 0..<n {
                let v = Double(t.confusion[i][j]) / Double(rowTotal)
                let shade = Int(255 - 200 * v)
                let fill = i == j ? "rgb(\(shade),\(shade),255)" : "rgb(255,\(shade),\(shade))"
                s +=
                    "<rect x='\(off + j * cell)' y='\(off + i * cell)' width='\(cell)' height='\(cell)' fill='\(fill)' stroke='#eee'>"
                s +=
                    "<title>true \(htmlEscape(t.classes[i])), predicted \(htmlEscape(t.classes[j])): \(t.confusion[i][j])</title></rect>"
                if t.confusion[i][j] > 0 && cell >= 20 {
                    s +=
                        "<text x='\(off + j * cell + cell / 2)' y='\(off + i * cell + cell / 2 + 4)' font-size='9' text-anchor='middle'>\(t.confusion[i][j])</text>"
                }
            }
        }
        s += "<text x='\(off)' y='12' font-size='11'>rows: true class · columns: predicted</text></svg>"
        return s
    }
}

public func htmlEscape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "'", with: "&#39;").replacingOccurrences(
            of: "\"", with: "&quot;")
}

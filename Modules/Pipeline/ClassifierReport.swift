// Training outputs shared by classifier plugins: metrics.json and a self-contained report.html
// (inline SVG charts, confusion heat map, misclassified examples as inline PNGs).
import Foundation
import Media
import Tensor

public struct EpochRecord {
    public let epoch: Int
    public let loss: Double
    public let accuracy: Double
    public let imagesPerSecond: Double
    public let validationAccuracy: Double?
    public init(epoch: Int, loss: Double, accuracy: Double, imagesPerSecond: Double, validationAccuracy: Double?) {
        self.epoch = epoch; self.loss = loss; self.accuracy = accuracy
        self.imagesPerSecond = imagesPerSecond; self.validationAccuracy = validationAccuracy
    }
}

/// Accuracy, per-class accuracy and confusion matrix (rows: true class, columns: predicted).
public struct ClassifierEvaluation {
    public let classes: [String]
    public let confusion: [[Int]]
    public init(classes: [String], truth: [Int], predicted: [Int]) {
        self.classes = classes
        var m = Array(repeating: Array(repeating: 0, count: classes.count), count: classes.count)
        for (t, p) in zip(truth, predicted) { m[t][p] += 1 }
        confusion = m
    }
    public var total: Int { confusion.joined().reduce(0, +) }
    public var accuracy: Double {
        total == 0 ? 0 : Double((0..<classes.count).map { confusion[$0][$0] }.reduce(0, +)) / Double(total)
    }
    public var perClass: [Double] {
        confusion.enumerated().map { i, row in let n = row.reduce(0, +); return n == 0 ? 0 : Double(row[i]) / Double(n) }
    }
}

public struct ClassifierReport {
    public var title: String
    public var epochs: [EpochRecord] = []
    public var test: ClassifierEvaluation?
    public var trainSeconds: Double = 0
    public var misclassified: [(image: Image, truth: String, predicted: String)] = []
    public var notes: [String] = []
    public init(title: String) { self.title = title }

    public func metricsJSON() -> String {
        func f(_ x: Double) -> String { x.isFinite ? String(format: "%.6g", x) : "null" }
        let ep = epochs.map { e in
            "{\"epoch\":\(e.epoch),\"loss\":\(f(e.loss)),\"accuracy\":\(f(e.accuracy)),\"images_per_s\":\(f(e.imagesPerSecond))"
                + (e.validationAccuracy.map { ",\"validation_accuracy\":\(f($0))" } ?? "") + "}"
        }.joined(separator: ",\n    ")
        var s = "{\n  \"epochs\": [\n    \(ep)\n  ],\n"
        if let t = test {
            let per = zip(t.classes, t.perClass).map { "\(jsonQuoted($0)):\(f($1))" }.joined(separator: ",")
            let cm = t.confusion.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",\n    ")
            s += "  \"test_accuracy\": \(f(t.accuracy)),\n  \"test_count\": \(t.total),\n"
            s += "  \"classes\": [\(t.classes.map(jsonQuoted).joined(separator: ","))],\n"
            s += "  \"per_class_accuracy\": {\(per)},\n  \"confusion_matrix\": [\n    \(cm)\n  ],\n"
        } else {
            s += "  \"test_accuracy\": null,\n"
        }
        s += "  \"train_seconds\": \(f(trainSeconds))\n}\n"
        return s
    }

    /// A line chart of `values` (per epoch) as inline SVG.
    func chart(_ name: String, _ values: [Double], _ color: String) -> String {
        guard !values.isEmpty else { return "" }
        let w = 420.0, h = 180.0, pad = 36.0
        let lo = min(values.min()!, 0), hi = max(values.max()!, lo + 1e-9)
        func x(_ i: Int) -> Double { pad + (w - 2 * pad) * (values.count == 1 ? 0.5 : Double(i) / Double(values.count - 1)) }
        func y(_ v: Double) -> Double { h - pad - (h - 2 * pad) * (v - lo) / (hi - lo) }
        let pts = values.enumerated().map { String(format: "%.1f,%.1f", x($0), y($1)) }.joined(separator: " ")
        var s = "<svg width='\(Int(w))' height='\(Int(h))' viewBox='0 0 \(Int(w)) \(Int(h))'><title>\(name)</title>"
        s += "<rect x='0' y='0' width='\(Int(w))' height='\(Int(h))' fill='#fff' stroke='#ccc'/>"
        s += "<text x='\(Int(pad))' y='18' font-size='13'>\(name)</text>"
        s += String(format: "<text x='4' y='%.0f' font-size='10'>%.3g</text><text x='4' y='%.0f' font-size='10'>%.3g</text>", y(hi) + 4, hi, y(lo) + 4, lo)
        s += "<polyline fill='none' stroke='\(color)' stroke-width='2' points='\(pts)'/>"
        for (i, v) in values.enumerated() { s += String(format: "<circle cx='%.1f' cy='%.1f' r='2.5' fill='%@'/>", x(i), y(v), color) }
        s += "<text x='\(Int(w / 2) - 15)' y='\(Int(h) - 8)' font-size='10'>epoch</text></svg>"
        return s
    }

    func confusionSVG(_ t: ClassifierEvaluation) -> String {
        let n = t.classes.count, cell = max(14, min(36, 360 / max(n, 1))), off = 60
        let size = off + n * cell + 10
        var s = "<svg width='\(size)' height='\(size)'><title>confusion matrix</title>"
        for i in 0..<n {
            let rowTotal = max(1, t.confusion[i].reduce(0, +))
            s += "<text x='\(off - 6)' y='\(off + i * cell + cell / 2 + 4)' font-size='10' text-anchor='end'>\(htmlEscape(t.classes[i]))</text>"
            s += "<text x='\(off + i * cell + cell / 2)' y='\(off - 6)' font-size='10' text-anchor='middle'>\(htmlEscape(t.classes[i]))</text>"
            for j in 0..<n {
                let v = Double(t.confusion[i][j]) / Double(rowTotal)
                let shade = Int(255 - 200 * v)
                let fill = i == j ? "rgb(\(shade),\(shade),255)" : "rgb(255,\(shade),\(shade))"
                s += "<rect x='\(off + j * cell)' y='\(off + i * cell)' width='\(cell)' height='\(cell)' fill='\(fill)' stroke='#eee'>"
                s += "<title>true \(htmlEscape(t.classes[i])), predicted \(htmlEscape(t.classes[j])): \(t.confusion[i][j])</title></rect>"
                if t.confusion[i][j] > 0 && cell >= 20 {
                    s += "<text x='\(off + j * cell + cell / 2)' y='\(off + i * cell + cell / 2 + 4)' font-size='9' text-anchor='middle'>\(t.confusion[i][j])</text>"
                }
            }
        }
        s += "<text x='\(off)' y='12' font-size='11'>rows: true class · columns: predicted</text></svg>"
        return s
    }

    public func html() -> String {
        var body = "<h1>\(htmlEscape(title))</h1>"
        if let t = test {
            body += String(format: "<p class='big'>Held-out accuracy: <b>%.2f %%</b> on %d examples · training %.1f s · %d epochs</p>",
                           100 * t.accuracy, t.total, trainSeconds, epochs.count)
        }
        for n in notes { body += "<p>\(htmlEscape(n))</p>" }
        body += "<div class='row'>" + chart("training loss", epochs.map { $0.loss }, "#c33")
        body += chart("training accuracy", epochs.map { $0.accuracy }, "#36c")
        let val = epochs.compactMap { $0.validationAccuracy }
        if !val.isEmpty { body += chart("validation accuracy", val, "#3a3") }
        body += "</div>"
        if let t = test {
            body += "<h2>Confusion matrix (held-out)</h2>" + confusionSVG(t)
            body += "<h2>Per-class accuracy</h2><table><tr><th>class</th><th>accuracy</th><th>examples</th></tr>"
            for (i, c) in t.classes.enumerated() {
                body += String(format: "<tr><td>%@</td><td>%.1f %%</td><td>%d</td></tr>", htmlEscape(c), 100 * t.perClass[i], t.confusion[i].reduce(0, +))
            }
            body += "</table>"
        }
        if !misclassified.isEmpty {
            body += "<h2>Misclassified examples</h2><div class='strip'>"
            for m in misclassified {
                let png = (try? PNG.encode(m.image.resized(width: m.image.width * 2, height: m.image.height * 2)))?.base64EncodedString() ?? ""
                body += "<figure><img src='data:image/png;base64,\(png)' alt='misclassified'><figcaption>true \(htmlEscape(m.truth))<br>→ \(htmlEscape(m.predicted))</figcaption></figure>"
            }
            body += "</div>"
        }
        return """
        <!doctype html><html><head><meta charset='utf-8'><title>\(htmlEscape(title))</title><style>
        body{font-family:system-ui,sans-serif;margin:2em;color:#222} .big{font-size:1.2em} .row{display:flex;gap:1em;flex-wrap:wrap}
        table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:2px 8px;text-align:right}
        .strip{display:flex;flex-wrap:wrap;gap:6px} figure{margin:0;text-align:center;font-size:11px} img{image-rendering:pixelated;border:1px solid #ccc}
        </style></head><body>\(body)</body></html>
        """
    }

    /// Writes metrics.json and/or report.html atomically.
    public func write(metrics: String?, html htmlPath: String?) throws {
        if let m = metrics { try makeParentFolder(m); try writeFileAtomically(Data(metricsJSON().utf8), to: m) }
        if let h = htmlPath { try makeParentFolder(h); try writeFileAtomically(Data(html().utf8), to: h) }
    }
}

public func htmlEscape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "'", with: "&#39;").replacingOccurrences(of: "\"", with: "&quot;")
}

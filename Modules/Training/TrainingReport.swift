// What a training run reports: any number of named per-epoch series (losses, accuracies, bits per
// character, throughput), result fields, and optional sections (confusion matrix, image grids, text
// samples), written as metrics.json and a self-contained report.html. A series named
// "validation_X" is drawn in the same chart as "X".
import Foundation
import Tensor
import Pipeline
import FilesAndText

/// One named value of one epoch.
public struct Metric: Equatable {
    public let name: String
    public let value: Double
    public init(_ name: String, _ value: Double) {
        self.name = name
        self.value = value
    }
}

/// An image in the report, already encoded as PNG.
public struct ReportImage {
    public let png: Data, caption: String
    public init(png: Data, caption: String) {
        self.png = png
        self.caption = caption
    }
}

public enum ReportSection {
    case confusion(title: String, ClassifierEvaluation)
    case images(title: String, [ReportImage])
    case text(title: String, [String])
    case table(title: String, header: [String], rows: [[String]])
}

public struct TrainingReport {
    public var title: String
    /// Per epoch, the metrics in the order the stage gave them.
    public var epochs: [[Metric]] = []
    public var trainSeconds: Double = 0
    /// Settings of the run, shown as a table.
    public var settings: [(String, String)] = []
    /// Architecture tables, one per network.
    public var networks: [(name: String, layers: [LayerSummary])] = []
    /// Top-level metrics.json fields (raw JSON values), e.g. ("test_accuracy", "0.988").
    public var results: [(String, String)] = []
    /// One-line headline shown first in the HTML.
    public var headline: String?
    public var sections: [ReportSection] = []
    /// Points taken within epochs (each with its "step"), drawn as a curve of their own: what two epochs
    /// cannot show.
    public var curve: [[Metric]] = []
    public init(title: String) { self.title = title }

    /// Names of all series, in first-seen order.
    public var seriesNames: [String] {
        var seen: [String] = []
        for e in epochs { for m in e where !seen.contains(m.name) { seen.append(m.name) } }
        return seen
    }

    public func series(_ name: String) -> [Double?] { epochs.map { e in e.first { $0.name == name }?.value } }

    public func metricsJSON() -> String {
        let ep = epochs.enumerated().map { i, e in
            "{\"epoch\":\(i + 1)" + e.map { ",\(jsonQuoted($0.name)):\(jsonNumber($0.value, format: "%.6g"))" }.joined()
                + "}"
        }.joined(separator: ",\n    ")
        var s = "{\n  \"epochs\": [\n    \(ep)\n  ],\n"
        if !curve.isEmpty {
            let points = curve.map { p in
                "{" + p.map { "\(jsonQuoted($0.name)):\(jsonNumber($0.value, format: "%.6g"))" }.joined(separator: ",")
                    + "}"
            }
            s += "  \"curve\": [\n    " + points.joined(separator: ",\n    ") + "\n  ],\n"
        }
        for (k, v) in results { s += "  \(jsonQuoted(k)): \(v),\n" }
        s += "  \"train_seconds\": \(jsonNumber(trainSeconds, format: "%.6g"))\n}\n"
        return s
    }

    /// Charts: one per metric, its validation series beside it in the same chart.
    func charts() -> String {
        let palette = ["#c33", "#36c", "#3a3", "#a6c", "#e80", "#088"]
        var out = ""
        for (k, name) in seriesNames.enumerated() where !name.hasPrefix("validation_") {
            var lines = [
                ChartLine(
                    name.hasSuffix("_per_s") ? name : "training", color: palette[k % palette.count],
                    values: series(name))
            ]
            if seriesNames.contains("validation_" + name) {
                lines.append(ChartLine("validation", color: "#3a3", values: series("validation_" + name)))
            }
            out += SVGChart.lines(
                name.replacingOccurrences(of: "_", with: " "), lines,
                yLabel: name.replacingOccurrences(of: "_", with: " "))
        }
        out += curveCharts(palette)
        for name in seriesNames where name.hasPrefix("validation_") && !seriesNames.contains(String(name.dropFirst(11)))
        {
            out += SVGChart.lines(
                name.replacingOccurrences(of: "_", with: " "),
                [ChartLine("validation", color: "#3a3", values: series(name))],
                yLabel: String(name.dropFirst(11)))
        }
        return out
    }

    /// The within-epoch curve: one chart per series (its validation series beside it), over the steps.
    func curveCharts(_ palette: [String]) -> String {
        guard let first = curve.first, let last = curve.last else { return "" }
        let names = first.map(\.name).filter { $0 != "step" && !$0.hasPrefix("validation_") }
        func values(_ name: String) -> [Double?] { curve.map { p in p.first { $0.name == name }?.value } }
        let steps =
            "steps \(Int(first.first { $0.name == "step" }?.value ?? 0))–\(Int(last.first { $0.name == "step" }?.value ?? 0))"
        return names.enumerated().map { k, name in
            var lines = [ChartLine("training", color: palette[k % palette.count], values: values(name))]
            if first.contains(where: { $0.name == "validation_" + name }) {
                lines.append(ChartLine("validation", color: "#3a3", values: values("validation_" + name)))
            }
            let label = name.replacingOccurrences(of: "_", with: " ")
            return SVGChart.lines("\(label), \(steps)", lines, yLabel: label)
        }.joined()
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        "<table><tr>" + header.map { "<th>\(htmlEscape($0))</th>" }.joined() + "</tr>"
            + rows.map { "<tr>" + $0.map { "<td>\(htmlEscape($0))</td>" }.joined() + "</tr>" }.joined() + "</table>"
    }

    func architecture() -> String {
        networks.map { net in
            let rows = net.layers.map {
                [
                    $0.name, $0.outputShape.map(String.init).joined(separator: "×"), "\($0.parameters)",
                    String(format: "%.3f", Double(2 * $0.multiplyAdds) / 1e6),
                ]
            }
            let total = net.layers.reduce(0) { $0 + $1.parameters }
            return "<h2>Architecture\(networks.count > 1 ? ": " + htmlEscape(net.name) : "") (\(total) parameters)</h2>"
                + Self.table(["layer", "output", "parameters", "MFLOPs per example"], rows)
        }.joined()
    }

    func section(_ s: ReportSection) -> String {
        switch s {
        case .confusion(let title, let t):
            let rows = t.classes.enumerated().map { i, c in
                [c, String(format: "%.1f %%", 100 * t.perClass[i]), "\(t.confusion[i].reduce(0, +))"]
            }
            return "<h2>\(htmlEscape(title))</h2>" + SVGChart.confusion(t) + "<h2>Per-class accuracy</h2>"
                + Self.table(["class", "accuracy", "examples"], rows)
        case .images(let title, let images):
            return "<h2>\(htmlEscape(title))</h2><div class='strip'>"
                + images.map {
                    "<figure><img src='data:image/png;base64,\($0.png.base64EncodedString())' alt='\(htmlEscape($0.caption))'><figcaption>\(htmlEscape($0.caption).replacingOccurrences(of: "\n", with: "<br>"))</figcaption></figure>"
                }.joined() + "</div>"
        case .text(let title, let lines):
            // Wrapped at the page's width: a generated paragraph is one long line.
            return "<h2>\(htmlEscape(title))</h2><pre style=\"white-space:pre-wrap;overflow-wrap:anywhere\">"
                + lines.map(htmlEscape).joined(separator: "\n") + "</pre>"
        case .table(let title, let header, let rows):
            return "<h2>\(htmlEscape(title))</h2>" + Self.table(header, rows)
        }
    }

    public func html() -> String {
        var body = "<h1>\(htmlEscape(title))</h1>"
        if let h = headline { body += "<p class='big'>\(htmlEscape(h))</p>" }
        body += "<div class='row'>" + charts() + "</div>"
        for s in sections { body += section(s) }
        body += architecture()
        let run = settings + [("epochs", "\(epochs.count)"), ("training time", String(format: "%.1f s", trainSeconds))]
        body += "<h2>Run settings</h2>" + Self.table(["setting", "value"], run.map { [$0.0, $0.1] })
        return """
            <!doctype html><html><head><meta charset='utf-8'><title>\(htmlEscape(title))</title><style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222} .big{font-size:1.2em} .row{display:flex;gap:1em;flex-wrap:wrap}
            table{border-collapse:collapse;margin-bottom:1em} td,th{border:1px solid #ddd;padding:2px 8px;text-align:right}
            .strip{display:flex;flex-wrap:wrap;gap:6px} figure{margin:0;text-align:center;font-size:11px} img{image-rendering:pixelated;border:1px solid #ccc}
            </style></head><body>\(body)</body></html>
            """
    }

    /// The files as they would be written: (path, contents) for metrics.json and report.html.
    public func files(metrics: String?, html htmlPath: String?) -> [(path: String, data: Data)] {
        var out: [(String, Data)] = []
        if let m = metrics { out.append((m, Data(metricsJSON().utf8))) }
        if let h = htmlPath { out.append((h, Data(html().utf8))) }
        return out
    }

    /// The per-epoch history as JSON (saved in training checkpoints).
    var historyJSON: String { Self.pairsJSON(epochs) }

    /// The within-epoch curve as JSON (saved in training checkpoints, read back by `history`).
    var curveJSON: String { Self.pairsJSON(curve) }

    /// Rows of metrics as [[["name", value], …], …].
    static func pairsJSON(_ rows: [[Metric]]) -> String {
        "["
            + rows.map { row in
                "["
                    + row.map { "[\(jsonQuoted($0.name)),\(jsonNumber($0.value, format: "%.6g"))]" }.joined(
                        separator: ",")
                    + "]"
            }.joined(separator: ",") + "]"
    }

    /// Reads `historyJSON` back; nil when malformed.
    static func history(_ json: String) -> [[Metric]]? {
        guard case .array(let epochs)? = JSONValue.parse(json) else { return nil }
        var out: [[Metric]] = []
        for e in epochs {
            guard case .array(let pairs) = e else { return nil }
            var row: [Metric] = []
            for p in pairs {
                guard case .array(let kv) = p, kv.count == 2, case .string(let name) = kv[0] else { return nil }
                switch kv[1] {
                case .number(let t):
                    guard let v = Double(t) else { return nil }
                    row.append(Metric(name, v))
                case .null: row.append(Metric(name, .nan))
                default: return nil
                }
            }
            out.append(row)
        }
        return out
    }
}

// The result of one served input, as the spool's results/<name>.json and the HTTP service's response
// hold it: {"file", "label", "confidence", "top": [{label, p}], "model", "worker", "time", "ms"}, the
// prediction fields only for pipelines that predict.
import FilesAndText
import Foundation

public enum ResultJSON {
    /// The result of `item` named `name`; `topK` keeps only the first k of the ranked labels.
    public static func make(
        _ name: String, _ item: Item, model: String?, worker: String, time: String, ms: Double, topK: Int? = nil
    ) -> String {
        var s = "{\"file\":\(jsonQuoted(name))"
        if let p = item.prediction {
            let top = p.top.prefix(topK ?? p.top.count).map {
                "{\"label\":\(jsonQuoted($0.label)),\"p\":\(jsonNumber(Double($0.probability), format: "%.6f"))}"
            }
            s += ",\"label\":\(jsonQuoted(p.label)),\"confidence\":\(jsonNumber(Double(p.confidence), format: "%.6f"))"
            s += ",\"top\":[\(top.joined(separator: ","))]"
        }
        if let model { s += ",\"model\":\(jsonQuoted(model))" }
        s += ",\"worker\":\(jsonQuoted(worker)),\"time\":\"\(time)\",\"ms\":\(jsonNumber(ms, format: "%.1f"))}\n"
        return s
    }

    /// UTC, millisecond precision: "2026-11-29T05:50:01.234Z".
    public static func timestamp(_ d: Date) -> String {
        var t = time_t(d.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&t, &parts)
        let millis = Int((d.timeIntervalSince1970 - Double(t)) * 1000)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millis)
    }
}

// The stage reference in Markdown, from the registry's schemas: `dlpipe stages --markdown` prints it,
// and docs/stages.md holds it verbatim (a test compares the two).

extension StageRegistry {
    /// Every stage (or the given ones) as a Markdown section with its option table.
    public func markdownReference(_ specs: [StageSpec]? = nil) -> String {
        var out = ""
        for s in specs ?? all {
            out +=
                "### `\(s.name)`\n\n\(s.summary). Consumes \(s.consumes.map { $0.rawValue }.joined(separator: " or ")); produces \(s.produces.rawValue). Under `dlpipe serve`: \(s.serving.summary).\n\n"
            out += "| option | type | default | description |\n|---|---|---|---|\n"
            for o in s.options {
                let d = o.required ? "required" : (o.defaultValue.map { "`\($0.display)`" } ?? "—")
                out += "| `\(o.name)` | \(o.type.name) | \(d) | \(o.doc) |\n"
            }
            out += "\n"
        }
        return out
    }
}

// `dlpipe stages [NAME]`: every registered stage with its options (like gst-inspect).
import Foundation
import Pipeline

let stagesUsage = """
    usage: dlpipe stages [NAME] [--markdown]

    Lists every stage with what it consumes and produces and its options (type, default, doc).
    With NAME, shows only that stage. --markdown prints the reference in docs/stages.md's format.
    """

func stagesCommand(_ args: [String]) -> Int32 {
    var name: String?
    var markdown = false
    for a in args {
        switch a {
        case "-h", "--help":
            print(stagesUsage)
            return 0
        case "--markdown": markdown = true
        default:
            if a.hasPrefix("-") { return usageError("stages: unknown option '\(a)'") }
            name = a
        }
    }
    let r = makeRegistry()
    var specs = r.all
    if let n = name {
        guard let s = r.spec(n) else {
            let hint = closestMatch(n, in: r.names).map { " (did you mean '\($0)'?)" } ?? ""
            return usageError("no stage '\(n)'\(hint)")
        }
        specs = [s]
    }
    if markdown {
        print(r.markdownReference(specs), terminator: "")
        return 0
    }
    for s in specs {
        print("\(s.name) — \(s.summary)")
        print(
            "  consumes: \(s.consumes.map { $0.rawValue }.joined(separator: " or ")); produces: \(s.produces.rawValue)")
        for o in s.options {
            let d = o.required ? "required" : (o.defaultValue.map { "default \($0.display)" } ?? "optional")
            print(
                "  \(o.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(o.type.name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(d.padding(toLength: 18, withPad: " ", startingAt: 0)) \(o.doc)"
            )
        }
        print("")
    }
    return 0
}

// The table of commands: one entry per command drives the main help, `dlpipe help COMMAND`, dispatch and
// the did-you-mean suggestion, so a command is added in one place.

/// A command of the dlpipe tool.
struct Command {
    /// What is typed: `dlpipe NAME …`.
    let name: String
    /// The arguments shown after the name in the command list, e.g. "FILE".
    let arguments: String
    /// One line for the command list.
    let summary: String
    /// The command's full help (`dlpipe NAME --help`, `dlpipe help NAME`).
    let usage: String
    let run: ([String]) -> Int32
}

let commands: [Command] = [
    Command(
        name: "run", arguments: "FILE", summary: "run a pipeline (.conf); see `dlpipe help run`",
        usage: runUsage, run: runCommand),
    Command(
        name: "check", arguments: "FILE", summary: "validate a pipeline without running it (exit 0 valid, 2 invalid)",
        usage: checkUsage, run: checkCommand),
    Command(
        name: "stages", arguments: "[NAME]", summary: "list every stage with its options, types, defaults and docs",
        usage: stagesUsage, run: stagesCommand),
    Command(
        name: "serve", arguments: "FILE --spool SPOOL",
        summary: "run a pipeline as a daemon over a spool folder (`dlpipe help serve`)", usage: serveUsage,
        run: serveCommand),
    Command(
        name: "status", arguments: "SPOOL", summary: "what a spool holds: queued, in work, done, failed, rate",
        usage: statusUsage, run: statusCommand),
    Command(
        name: "inspect", arguments: "FILE…", summary: "print facts about PNG and audio files",
        usage: inspectUsage, run: inspectCommand),
    Command(
        name: "convert", arguments: "…", summary: "turn dataset files into PNG folders (`dlpipe help convert`)",
        usage: convertUsage, run: convertCommand),
    Command(
        name: "bench", arguments: "KIND",
        summary: "micro-benchmarks of kernels, layers and training steps (`dlpipe help bench` lists them)",
        usage: benchUsage, run: runBench),
]

/// The main help, its command list made from the table.
var mainUsage: String {
    func line(_ head: String, _ summary: String) -> String {
        head.count <= 13
            ? "  " + head.padding(toLength: 15, withPad: " ", startingAt: 0) + summary
            : "  \(head)\n                 \(summary)"
    }
    let list =
        (commands.map { line("\($0.name) \($0.arguments)", $0.summary) }
        + [line("help COMMAND", "show help for a command")]).joined(separator: "\n")
    return """
        dlpipe \(dlpipeVersion) — deep-learning pipelines for Linux CPUs

        usage: dlpipe COMMAND [ARGS...]

        Commands:
        \(list)

        Options:
          -h, --help     show this help
          --version      print the version

        Exit status: 0 ok, 1 a run failed (or some inputs were bad), 2 usage or config error.
        """
}

func command(named name: String) -> Command? { commands.first { $0.name == name } }

// dlpipe command-line entry point: a hand-written, conventional CLI.
import Foundation
import Pipeline
import Vision
import Sequence
import Generative

let dlpipeVersion = "0.1.0"

let mainUsage = """
dlpipe \(dlpipeVersion) — deep-learning pipelines for Linux CPUs

usage: dlpipe COMMAND [ARGS...]

Commands:
  run FILE       run a pipeline (.conf); see `dlpipe help run`
  check FILE     validate a pipeline without running it (exit 0 valid, 2 invalid)
  stages [NAME]  list every stage with its options, types, defaults and docs
  serve FILE --spool SPOOL
                 run a pipeline as a daemon over a spool folder (`dlpipe help serve`)
  status SPOOL   what a spool holds: queued, in work, done, failed, rate
  inspect FILE…  print facts about PNG and audio files
  convert …      turn dataset files into PNG folders (`dlpipe help convert`)
  bench KIND     micro-benchmarks of kernels, layers and training steps (`dlpipe help bench` lists them)
  help COMMAND   show help for a command

Options:
  -h, --help     show this help
  --version      print the version

Exit status: 0 ok, 1 a run failed (or some inputs were bad), 2 usage or config error.
"""

/// Prints "dlpipe: message" on stderr and returns the usage exit code.
func usageError(_ message: String) -> Int32 {
    FileHandle.standardError.write(Data(("dlpipe: " + message + "\n").utf8))
    return 2
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((terminalSafe(message) + "\n").utf8))
}

func makeRegistry() -> StageRegistry {
    let r = StageRegistry.shared
    if r.spec("read.png") == nil {
        registerBuiltinStages(r)
        registerVisionStages(r)
        registerSequenceStages(r)
        registerGenerativeStages(r)
    }
    return r
}

func runMain(_ argv: [String]) -> Int32 {
    guard let cmd = argv.first else { print(mainUsage); return 2 }
    let rest = Array(argv.dropFirst())
    switch cmd {
    case "-h", "--help": print(mainUsage); return 0
    case "--version", "version": print("dlpipe \(dlpipeVersion)"); return 0
    case "help":
        switch rest.first {
        case nil, "-h", "--help", "help": print(mainUsage); return 0
        case "run": print(runUsage); return 0
        case "check": print(checkUsage); return 0
        case "stages": print(stagesUsage); return 0
        case "serve": print(serveUsage); return 0
        case "status": print(statusUsage); return 0
        case "inspect": print(inspectUsage); return 0
        case "convert": print(convertUsage); return 0
        case "bench": print(benchUsage); return 0
        case let c?: return usageError("help: unknown command '\(c)' (try `dlpipe --help`)")
        }
    case "run": return runCommand(rest)
    case "check": return checkCommand(rest)
    case "stages": return stagesCommand(rest)
    case "serve": return serveCommand(rest)
    case "status": return statusCommand(rest)
    case "inspect": return inspectCommand(rest)
    case "convert": return convertCommand(rest)
    case "bench": return runBench(rest)
    default:
        let hint = closestMatch(cmd, in: ["run", "check", "stages", "serve", "status", "inspect", "convert", "bench", "help"]).map { " (did you mean '\($0)'?)" } ?? ""
        return usageError("unknown command '\(cmd)'\(hint); try `dlpipe --help`")
    }
}

exit(runMain(Array(CommandLine.arguments.dropFirst())))

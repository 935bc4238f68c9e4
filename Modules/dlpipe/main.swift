// dlpipe command-line entry point.
import Foundation

let dlpipeVersion = "0.1.0"

let mainUsage = """
dlpipe \(dlpipeVersion) — deep-learning pipelines for Linux CPUs

usage: dlpipe COMMAND [ARGS...]

Commands:
  bench KIND     run a micro-benchmark (gemm, conv); see `dlpipe bench --help`
  help COMMAND   show help for a command

Options:
  -h, --help     show this help
  --version      print the version
"""

func usageError(_ message: String) -> Int32 {
    FileHandle.standardError.write(Data(("dlpipe: " + message + "\n").utf8))
    return 2
}

func runMain(_ argv: [String]) -> Int32 {
    guard let cmd = argv.first else { print(mainUsage); return 2 }
    let rest = Array(argv.dropFirst())
    switch cmd {
    case "-h", "--help": print(mainUsage); return 0
    case "--version", "version": print("dlpipe \(dlpipeVersion)"); return 0
    case "help":
        switch rest.first {
        case nil: print(mainUsage); return 0
        case "bench": print(benchUsage); return 0
        case let c?: return usageError("help: unknown command '\(c)'")
        }
    case "bench": return runBench(rest)
    default: return usageError("unknown command '\(cmd)' (try `dlpipe --help`)")
    }
}

exit(runMain(Array(CommandLine.arguments.dropFirst())))

// dlpipe command-line entry point: a hand-written, conventional CLI.
import Foundation
import Pipeline
import Vision
import Sequence
import Generative

let dlpipeVersion = "0.1.0"

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
    guard let name = argv.first else {
        print(mainUsage)
        return 2
    }
    let rest = Array(argv.dropFirst())
    switch name {
    case "-h", "--help":
        print(mainUsage)
        return 0
    case "--version", "version":
        print("dlpipe \(dlpipeVersion)")
        return 0
    case "help":
        switch rest.first {
        case nil, "-h", "--help", "help":
            print(mainUsage)
            return 0
        case let c?:
            guard let cmd = command(named: c) else {
                return usageError("help: unknown command '\(c)' (try `dlpipe --help`)")
            }
            print(cmd.usage)
            return 0
        }
    default:
        if let cmd = command(named: name) { return cmd.run(rest) }
        let hint = closestMatch(name, in: commands.map(\.name) + ["help"]).map { " (did you mean '\($0)'?)" } ?? ""
        return usageError("unknown command '\(name)'\(hint); try `dlpipe --help`")
    }
}

exit(runMain(Array(CommandLine.arguments.dropFirst())))

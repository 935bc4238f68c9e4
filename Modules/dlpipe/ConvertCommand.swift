// `dlpipe convert mnist-csv FILE OUT`: dataset files → labelled PNG folders.
import Foundation
import Media

let convertUsage = """
    usage: dlpipe convert mnist-csv FILE.csv[.gz] OUT_DIR [--train-per-class N]

    Writes OUT_DIR/train/<label>/*.png and OUT_DIR/test/<label>/*.png from CSV rows of 784 pixel values
    (0–255) followed by the label. Per class, the first N rows (default 400) in file order are train,
    the rest test.
    """

func convertCommand(_ args: [String]) -> Int32 {
    if args.contains("-h") || args.contains("--help") {
        print(convertUsage)
        return 0
    }
    var pos: [String] = []
    var perClass = 400
    var i = 0
    while i < args.count {
        if args[i] == "--train-per-class" {
            guard i + 1 < args.count, let n = Int(args[i + 1]), n >= 0 else {
                return usageError("convert: --train-per-class wants a number")
            }
            perClass = n
            i += 2
            continue
        }
        if args[i].hasPrefix("-") { return usageError("convert: unknown option '\(args[i])'") }
        pos.append(args[i])
        i += 1
    }
    guard pos.count == 3, pos[0] == "mnist-csv" else {
        return usageError("convert: expected 'mnist-csv FILE OUT_DIR'\n\n" + convertUsage)
    }
    do {
        let (tr, te) = try MNISTCSV.convert(pos[1], to: pos[2], trainPerClass: perClass)
        print("wrote \(tr) train and \(te) test PNGs under \(pos[2])")
        return 0
    } catch {
        printError("\(error)")
        return 1
    }
}

// swift-tools-version:5.10
// dlpipe — a Swift deep-learning pipeline for Linux CPUs. No package dependencies: Foundation,
// Dispatch and system C libraries only.
import PackageDescription

// Kernel code needs AVX2+FMA codegen: with Swift's baseline x86-64 target, SIMD8.addingProduct becomes
// scalar libm fmaf calls (0.7 GFLOP/s instead of ~94). "-target-cpu x86-64-v3" is rejected by swiftc;
// "-Xcc -march=x86-64-v3" works because Swift takes its target features from the clang importer.
// "-O" in debug too, so `swift test` does not run kernels 400x slower.
// The C kernels get the same target, and -fno-math-errno so sqrtf can vectorise.
#if arch(x86_64)
let archFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]
let cKernelFlags: [CSetting] = [
    .unsafeFlags(["-march=x86-64-v3", "-fno-math-errno"]),
    .unsafeFlags(["-O3"], .when(configuration: .debug)),
]
#else
let archFlags: [SwiftSetting] = []
let cKernelFlags: [CSetting] = [.unsafeFlags(["-fno-math-errno"]), .unsafeFlags(["-O3"], .when(configuration: .debug))]
#endif
let fastSwift: [SwiftSetting] = archFlags + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "dlpipe",
    products: [
        .executable(name: "dlpipe", targets: ["dlpipe"]),
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Media", targets: ["Media"]),
    ],
    targets: [
        .target(name: "CKernels", path: "Modules/CKernels", cSettings: cKernelFlags),
        // Atomic file writes, folders, JSON text and FNV-1a: below everything that writes or hashes.
        .target(name: "FilesAndText", path: "Modules/FilesAndText"),
        .target(name: "Tensor", dependencies: ["CKernels"], path: "Modules/Tensor", swiftSettings: fastSwift),
        .target(
            name: "NN", dependencies: ["FilesAndText", "Tensor", "CKernels"], path: "Modules/NN",
            swiftSettings: fastSwift),
        .systemLibrary(name: "CPNG", path: "Modules/CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", path: "Modules/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CSndFile", path: "Modules/CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .target(
            name: "Media", dependencies: ["FilesAndText", "Tensor", "CPNG", "CZlib", "CSndFile"], path: "Modules/Media",
            swiftSettings: fastSwift),
        // Linux calls Glibc's Swift module lacks (syncfs, renameat2) for the daemon's spool.
        .target(name: "CSystem", path: "Modules/CSystem"),
        .target(
            name: "Pipeline", dependencies: ["FilesAndText", "Tensor", "NN", "Media", "CSystem"],
            path: "Modules/Pipeline",
            swiftSettings: fastSwift),
        // Shared by every plugin: layer list and network builder, model files, training options and
        // optimizers, the epoch loop, checkpoints, batching and the training report.
        .target(
            name: "Training", dependencies: ["FilesAndText", "Tensor", "NN", "Media", "Pipeline"],
            path: "Modules/Training",
            swiftSettings: fastSwift),
        .target(
            name: "Vision", dependencies: ["FilesAndText", "Tensor", "NN", "Media", "Pipeline", "Training"],
            path: "Plugins/Vision",
            swiftSettings: fastSwift),
        .target(
            name: "Sequence", dependencies: ["FilesAndText", "Tensor", "NN", "Media", "Pipeline", "Training"],
            path: "Plugins/Sequence",
            swiftSettings: fastSwift),
        .target(
            name: "Generative", dependencies: ["FilesAndText", "Tensor", "NN", "Media", "Pipeline", "Training"],
            path: "Plugins/Generative",
            swiftSettings: fastSwift),
        // Fuzz targets for every reader of outside data (scripts/fuzz.sh builds them with libFuzzer).
        .executableTarget(
            name: "dlpipe-fuzz", dependencies: ["FilesAndText", "Tensor", "NN", "Media", "Pipeline", "Training"],
            path: "Modules/Fuzz",
            swiftSettings: fastSwift),
        .executableTarget(
            name: "dlpipe",
            dependencies: [
                "FilesAndText", "Tensor", "NN", "Media", "Pipeline", "Training", "Vision", "Sequence", "Generative",
            ], path: "Modules/dlpipe",
            swiftSettings: fastSwift),
        .target(name: "TestSupport", dependencies: ["Pipeline"], path: "Tests/TestSupport"),
        .testTarget(
            name: "TensorTests", dependencies: ["FilesAndText", "Tensor"], path: "Tests/TensorTests",
            swiftSettings: fastSwift),
        .testTarget(
            name: "NNTests", dependencies: ["FilesAndText", "TestSupport", "Tensor", "NN"], path: "Tests/NNTests",
            exclude: ["Fixtures"], swiftSettings: fastSwift),
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "FilesAndText", "TestSupport", "Tensor", "NN", "Media", "Pipeline", "Vision", "Sequence", "Generative",
            ], path: "Tests/PipelineTests",
            swiftSettings: fastSwift),
        .testTarget(
            name: "TrainingTests",
            dependencies: ["FilesAndText", "TestSupport", "Tensor", "NN", "Media", "Pipeline", "Training"],
            path: "Tests/TrainingTests",
            swiftSettings: fastSwift),
        .testTarget(
            name: "VisionTests",
            dependencies: ["FilesAndText", "TestSupport", "Tensor", "NN", "Media", "Pipeline", "Training", "Vision"],
            path: "Tests/VisionTests",
            exclude: ["Fixtures"], swiftSettings: fastSwift),
        .testTarget(
            name: "SequenceTests",
            dependencies: ["FilesAndText", "TestSupport", "Tensor", "NN", "Media", "Pipeline", "Training", "Sequence"],
            path: "Tests/SequenceTests", swiftSettings: fastSwift),
        .testTarget(
            name: "GenerativeTests",
            dependencies: [
                "FilesAndText", "TestSupport", "Tensor", "NN", "Media", "Pipeline", "Training", "Vision", "Generative",
            ],
            path: "Tests/GenerativeTests", swiftSettings: fastSwift),
        .testTarget(
            name: "CLITests", dependencies: ["FilesAndText", "TestSupport", "Tensor", "Media"], path: "Tests/CLITests",
            swiftSettings: fastSwift),
        .testTarget(
            name: "MediaTests", dependencies: ["FilesAndText", "TestSupport", "Tensor", "NN", "Media"],
            path: "Tests/MediaTests",
            exclude: ["Fixtures"], swiftSettings: fastSwift),
    ]
)

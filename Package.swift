// swift-tools-version:6.0
import PackageDescription
import Foundation

/// Absolute path of this package, for linker flags that take a file.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

/// Linker settings every plugin uses: export only the ABI entry symbol.
let pluginLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--version-script=\(packageRoot)/SDK/exports.map"])
]

let package = Package(
    name: "Plexus",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "plexus", targets: ["plexus"]),
        .library(name: "PlexusSDK", targets: ["PlexusSDK"]),
        .library(name: "PlexusTesting", targets: ["PlexusTesting"]),
        .library(name: "PlexusHello", type: .dynamic, targets: ["PlexusHello"]),
        .library(name: "PlexusDocCompare", type: .dynamic, targets: ["PlexusDocCompare"]),
        .executable(name: "docdiff-bench", targets: ["docdiff-bench"]),
        .library(name: "PlexusTimetable", type: .dynamic, targets: ["PlexusTimetable"]),
        .executable(name: "timetable-bench", targets: ["timetable-bench"]),
        .library(name: "PlexusVisualization", type: .dynamic, targets: ["PlexusVisualization"]),
        .library(name: "PlexusFixtureThrower", type: .dynamic, targets: ["PlexusFixtureThrower"]),
        .library(name: "PlexusFixtureBusProbe", type: .dynamic, targets: ["PlexusFixtureBusProbe"]),
        .library(name: "PlexusFixtureNotes", type: .dynamic, targets: ["PlexusFixtureNotes"]),
        .library(name: "PlexusFixtureMetrics", type: .dynamic, targets: ["PlexusFixtureMetrics"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Already required by swift-prometheus; named here for the SDK's swift-metrics backend.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.7.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // MARK: SDK: the C ABI and the Swift layer plugins link statically.
        .target(name: "CPlexusABI", path: "SDK/CPlexusABI"),
        .target(
            name: "PlexusSDK",
            dependencies: ["CPlexusABI", .product(name: "Logging", package: "swift-log"), .product(name: "CoreMetrics", package: "swift-metrics")],
            path: "SDK/PlexusSDK"
        ),

        .target(name: "PlexusTesting", path: "SDK/PlexusTesting"),

        // MARK: Runtime
        .systemLibrary(name: "CLibUV", path: "Runtime/CLibUV", pkgConfig: "libuv"),
        // WebSocket framing (Debian's libwslay-dev ships no pkg-config file) and libcrypto's SHA-1 for the handshake.
        .systemLibrary(name: "CWslay", path: "Runtime/CWslay"),
        .systemLibrary(name: "COpenSSL", path: "Runtime/COpenSSL", pkgConfig: "libcrypto"),
        .target(name: "CPlexusShims", path: "Runtime/CPlexusShims"),
        // HTTP/1.1 request parsing: llhttp, compiled from the sources Debian's node-llhttp installs.
        .target(name: "CLLHTTP", path: "Runtime/CLLHTTP"),
        .systemLibrary(name: "CSQLite", path: "Runtime/CSQLite", pkgConfig: "sqlite3"),
        // Per-plugin SQLite storage: key-value, SQL, migrations, change feed, backup.
        .target(name: "PlexusStorage", dependencies: ["CSQLite"], path: "Runtime/PlexusStorage"),
        // The durable event log behind durable bus topics: group commit, consumer groups, dead letters.
        .target(name: "PlexusEventLog", dependencies: ["CSQLite"], path: "Runtime/PlexusEventLog"),
        // The gateway's identity parts: JWT verification (swift-crypto) and hashed API keys.
        .target(
            name: "PlexusAuth",
            dependencies: [
                "PlexusStorage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "Runtime/PlexusAuth"
        ),
        // The gateway's policies: rate limits, circuit breakers, bulkheads, the audit log, the OpenAPI document.
        .target(name: "PlexusPolicy", dependencies: ["PlexusStorage"], path: "Runtime/PlexusPolicy"),
        .target(
            name: "PlexusRuntime",
            dependencies: [
                "CLibUV", "CLLHTTP", "CPlexusShims", "CPlexusABI", "CSQLite", "PlexusEventLog", "PlexusStorage", "CWslay", "COpenSSL",
                "PlexusAuth", "PlexusPolicy",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Runtime/PlexusRuntime",
            // The runtime's loop-confined state is never accessed concurrently; dynamic exclusivity
            // checks cost about a tenth of the request path's CPU time, so release builds drop them.
            // Debug and test builds keep them: they catch re-entrant callbacks that mutate state
            // still being accessed ("Simultaneous accesses").
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "plexus",
            dependencies: ["PlexusRuntime", "PlexusAuth", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Runtime/plexus"
        ),

        // MARK: Plugins shipped with Plexus
        .target(
            name: "PlexusHello",
            dependencies: ["PlexusSDK"],
            path: "Plugins/Hello",
            linkerSettings: pluginLinkerSettings
        ),

        // Document comparison: the engine (no SDK dependency), the plugin on top, and its benchmark.
        .target(
            name: "DocDiff",
            dependencies: [.product(name: "ZIPFoundation", package: "ZIPFoundation")],
            path: "Plugins/DocCompare/Engine"
        ),
        .target(
            name: "PlexusDocCompare",
            dependencies: ["PlexusSDK", "DocDiff"],
            path: "Plugins/DocCompare/Plugin",
            linkerSettings: pluginLinkerSettings
        ),
        .executableTarget(name: "docdiff-bench", dependencies: ["DocDiff"], path: "Plugins/DocCompare/Bench"),

        // Timetabling: the solver (no SDK dependency), the plugin on top, and its benchmark.
        .target(name: "TimetableSolver", path: "Plugins/Timetable/Solver"),
        .target(
            name: "PlexusTimetable",
            dependencies: ["PlexusSDK", "TimetableSolver"],
            path: "Plugins/Timetable/Plugin",
            linkerSettings: pluginLinkerSettings
        ),
        .executableTarget(name: "timetable-bench", dependencies: ["TimetableSolver"], path: "Plugins/Timetable/Bench"),

        // Visualization: the chart engine (no SDK dependency; cairo, pango and fontconfig for PNG/PDF) and the plugin on top.
        .systemLibrary(name: "CCairo", path: "Plugins/Visualization/CCairo", pkgConfig: "pangocairo"),
        .target(name: "ChartEngine", dependencies: ["CCairo"], path: "Plugins/Visualization/Engine"),
        .target(
            name: "PlexusVisualization",
            dependencies: ["PlexusSDK", "ChartEngine"],
            path: "Plugins/Visualization/Plugin",
            linkerSettings: pluginLinkerSettings
        ),

        // MARK: Test fixtures and tests
        .target(
            name: "PlexusFixtureThrower",
            dependencies: ["PlexusSDK"],
            path: "Tests/Fixtures/SwiftThrower",
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "PlexusFixtureBusProbe",
            dependencies: ["PlexusSDK"],
            path: "Tests/Fixtures/SwiftBusProbe",
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "PlexusFixtureNotes",
            dependencies: ["PlexusSDK"],
            path: "Tests/Fixtures/SwiftNotes",
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "PlexusFixtureMetrics",
            dependencies: ["PlexusSDK", .product(name: "CoreMetrics", package: "swift-metrics")],
            path: "Tests/Fixtures/SwiftMetricsProbe",
            linkerSettings: pluginLinkerSettings
        ),
        .testTarget(
            name: "PlexusRuntimeTests",
            dependencies: ["PlexusRuntime", "PlexusSDK", "PlexusEventLog"],
            path: "Tests/PlexusRuntimeTests",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "DocDiffTests",
            dependencies: ["DocDiff", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            path: "Tests/DocDiffTests"
        ),
        .testTarget(
            name: "DocCompareTests",
            dependencies: ["PlexusTesting"],
            path: "Tests/DocCompareTests",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(name: "kv-bench", dependencies: ["PlexusStorage", "CSQLite"], path: "bench/kv-bench"),
        .executableTarget(name: "bus-bench", dependencies: ["PlexusRuntime"], path: "bench/bus-bench"),
        .executableTarget(name: "eventlog-bench", dependencies: ["PlexusEventLog"], path: "bench/eventlog-bench"),
        .testTarget(name: "PlexusAuthTests", dependencies: ["PlexusAuth"], path: "Tests/PlexusAuthTests"),
        .testTarget(name: "PlexusPolicyTests", dependencies: ["PlexusPolicy"], path: "Tests/PlexusPolicyTests"),
        .testTarget(name: "PlexusStorageTests", dependencies: ["PlexusStorage"], path: "Tests/PlexusStorageTests"),
        .testTarget(name: "PlexusEventLogTests", dependencies: ["PlexusEventLog"], path: "Tests/PlexusEventLogTests"),
        .testTarget(name: "ChartEngineTests", dependencies: ["ChartEngine", "CCairo"], path: "Tests/ChartEngineTests"),
        .testTarget(
            name: "VisualizationTests",
            dependencies: ["PlexusTesting"],
            path: "Tests/VisualizationTests",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(name: "TimetableSolverTests", dependencies: ["TimetableSolver"], path: "Tests/TimetableSolverTests"),
        .testTarget(
            name: "TimetableTests",
            dependencies: ["PlexusTesting"],
            path: "Tests/TimetableTests",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "PlexusIntegrationTests",
            dependencies: ["PlexusTesting", .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto")],
            path: "Tests/PlexusIntegrationTests",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)

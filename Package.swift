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
        .library(name: "PlexusHello", type: .dynamic, targets: ["PlexusHelloEntry"]),
        .library(name: "PlexusDocCompare", type: .dynamic, targets: ["PlexusDocCompareEntry"]),
        .executable(name: "docdiff-bench", targets: ["docdiff-bench"]),
        .library(name: "PlexusTimetable", type: .dynamic, targets: ["PlexusTimetableEntry"]),
        .executable(name: "timetable-bench", targets: ["timetable-bench"]),
        .library(name: "PlexusCompliance", type: .dynamic, targets: ["PlexusComplianceEntry"]),
        .executable(name: "compliance-bench", targets: ["compliance-bench"]),
        .library(name: "PlexusVoice", type: .dynamic, targets: ["PlexusVoice"]),
        .executable(name: "voice-bench", targets: ["voice-bench"]),
        .library(name: "PlexusVisualization", type: .dynamic, targets: ["PlexusVisualization"]),
        .library(name: "PlexusWorkflows", type: .dynamic, targets: ["PlexusWorkflowsEntry"]),
        .executable(name: "workflows-bench", targets: ["workflows-bench"]),
        .library(name: "PlexusWhiteLabel", type: .dynamic, targets: ["PlexusWhiteLabelEntry"]),
        .executable(name: "whitelabel-bench", targets: ["whitelabel-bench"]),
        .library(name: "PlexusFixtureThrower", type: .dynamic, targets: ["PlexusFixtureThrower"]),
        .library(name: "PlexusFixtureBusProbe", type: .dynamic, targets: ["PlexusFixtureBusProbe"]),
        .library(name: "PlexusFixtureNotes", type: .dynamic, targets: ["PlexusFixtureNotesEntry"]),
        .library(name: "PlexusFixtureMetrics", type: .dynamic, targets: ["PlexusFixtureMetrics"]),
        .library(name: "PlexusFixtureGuards", type: .dynamic, targets: ["PlexusFixtureGuardsEntry"]),
        .library(name: "PlexusFixtureCRC", type: .dynamic, targets: ["PlexusFixtureCRC"]),
        .library(name: "PlexusFixtureCancel", type: .dynamic, targets: ["PlexusFixtureCancelEntry"]),
        .library(name: "PlexusFixtureWorkflowProbe", type: .dynamic, targets: ["PlexusFixtureWorkflowProbe"]),
    ],
    dependencies: [
        // The SDK, the ABI header and the test kit: a package of their own that plugin packages depend on.
        .package(path: "SDK"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Already required by swift-prometheus; named here for the SDK's swift-metrics backend.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.7.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // MARK: Runtime
        .systemLibrary(name: "CLibUV", path: "Runtime/CLibUV", pkgConfig: "libuv"),
        // WebSocket framing (Debian's libwslay-dev ships no pkg-config file) and libcrypto's SHA-1 for the handshake.
        .systemLibrary(name: "CWslay", path: "Runtime/CWslay"),
        .systemLibrary(name: "COpenSSL", path: "Runtime/COpenSSL", pkgConfig: "libcrypto"),
        .target(name: "CPlexusShims", path: "Runtime/CPlexusShims"),
        // HTTP/1.1 request parsing: llhttp, compiled from the sources Debian's node-llhttp installs.
        .target(name: "CLLHTTP", path: "Runtime/CLLHTTP"),
        .systemLibrary(name: "CSQLite", path: "Runtime/CSQLite", pkgConfig: "sqlite3"),
        // libffi: native plugins call C library functions a manifest describes (Runtime/PlexusRuntime/Native).
        .systemLibrary(name: "CFFI", path: "Runtime/CFFI", pkgConfig: "libffi"),
        // libpq (libpq-dev): plugin storage and the runtime's stores on PostgreSQL ([cluster] postgres).
        .systemLibrary(name: "CLibPQ", path: "Runtime/CLibPQ", pkgConfig: "libpq"),
        // Per-plugin SQLite storage: key-value, SQL, migrations, change feed, backup.
        .target(name: "PlexusStorage", dependencies: ["CSQLite", "CLibPQ", "CLibUV"], path: "Runtime/PlexusStorage"),
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
        .target(name: "PlexusPolicy", dependencies: ["PlexusStorage"], path: "Runtime/PlexusPolicy",
                // The bulkhead and breaker run on every guarded request: no dynamic exclusivity checks in release (debug keeps them).
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        .target(
            name: "PlexusRuntime",
            dependencies: [
                "CLibUV", "CLLHTTP", "CPlexusShims", .product(name: "CPlexusABI", package: "SDK"), "CSQLite", "PlexusEventLog", "PlexusStorage", "CWslay", "COpenSSL",
                "CFFI",
                "PlexusAuth", "PlexusPolicy",
                .product(name: "Logging", package: "swift-log"),
                "PlexusTOML",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                // Cluster mode (issue 20): Debian's hiredis on the runtime's loop.
                "CHiredis",
            ],
            path: "Runtime/PlexusRuntime",
            exclude: ["Native/README.md"],
            // The runtime's loop-confined state is never accessed concurrently; dynamic exclusivity
            // checks cost about a tenth of the request path's CPU time, so release builds drop them.
            // Debug and test builds keep them: they catch re-entrant callbacks that mutate state
            // still being accessed ("Simultaneous accesses").
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "plexus",
            dependencies: ["PlexusRuntime", "PlexusAuth", "PlexusStorage", .product(name: "ArgumentParser", package: "swift-argument-parser"), "PlexusPolicy"],
            path: "Runtime/plexus"
        ),

        // MARK: Plugins shipped with Plexus
        // Hello: the plugin type (linked in-process by its tests) and the entry symbol of the library.
        .target(name: "PlexusHello", dependencies: [.product(name: "PlexusSDK", package: "SDK")], path: "Plugins/Hello/Plugin"),
        .target(
            name: "PlexusHelloEntry",
            dependencies: ["PlexusHello", .product(name: "PlexusSDK", package: "SDK")],
            path: "Plugins/Hello/Entry",
            linkerSettings: pluginLinkerSettings
        ),

        // Document comparison: the engine (no SDK dependency), the plugin on top, and its benchmark.
        .target(
            name: "DocDiff",
            dependencies: ["CLibZip", "CLibXML2", "XMLGuard"],
            path: "Plugins/DocCompare/Engine"
        ),
        .target(name: "PlexusDocCompare", dependencies: [.product(name: "PlexusSDK", package: "SDK"), "DocDiff"], path: "Plugins/DocCompare/Plugin"),
        .target(
            name: "PlexusDocCompareEntry",
            dependencies: ["PlexusDocCompare", .product(name: "PlexusSDK", package: "SDK")],
            path: "Plugins/DocCompare/Entry",
            linkerSettings: pluginLinkerSettings
        ),
        .executableTarget(name: "docdiff-bench", dependencies: ["DocDiff"], path: "Plugins/DocCompare/Bench"),

        // Timetabling: the solver (no SDK dependency), the plugin on top, and its benchmark.
        .target(name: "TimetableSolver", path: "Plugins/Timetable/Solver"),
        .target(
            name: "PlexusTimetable",
            dependencies: [.product(name: "PlexusSDK", package: "SDK"), "TimetableSolver"],
            path: "Plugins/Timetable/Plugin"
        ),
        .target(
            name: "PlexusTimetableEntry",
            dependencies: ["PlexusTimetable", .product(name: "PlexusSDK", package: "SDK")],
            path: "Plugins/Timetable/Entry",
            linkerSettings: pluginLinkerSettings
        ),
        .executableTarget(name: "timetable-bench", dependencies: ["TimetableSolver"], path: "Plugins/Timetable/Bench"),

        // Compliance: the engine (recognisers, rule packs, checks; no SDK dependency), the plugin on top, and its benchmark.
        .target(
            name: "ComplianceEngine",
            dependencies: ["COpenSSL"],   // libcrypto's HMAC-SHA256 for keyed-hash redaction (a system library: no build cost)
            path: "Plugins/Compliance/Engine"
        ),
        .target(
            name: "PlexusCompliance",
            dependencies: [.product(name: "PlexusSDK", package: "SDK"), "ComplianceEngine", "DocDiff"],
            path: "Plugins/Compliance/Plugin"
        ),
        .target(
            name: "PlexusComplianceEntry",
            dependencies: ["PlexusCompliance", .product(name: "PlexusSDK", package: "SDK")],
            path: "Plugins/Compliance/Entry",
            linkerSettings: pluginLinkerSettings
        ),
        .executableTarget(name: "compliance-bench", dependencies: ["ComplianceEngine"], path: "Plugins/Compliance/Bench"),
        // Voice: PocketSphinx recognition, espeak-ng synthesis and soxr resampling (Debian packages), the
        // engine (no SDK dependency), the plugin on top, and the clip tool the benchmark uses.
        .systemLibrary(name: "CPocketSphinx", path: "Plugins/Voice/CPocketSphinx", pkgConfig: "pocketsphinx"),
        .systemLibrary(name: "CEspeakNG", path: "Plugins/Voice/CEspeakNG"),
        .systemLibrary(name: "CSoxr", path: "Plugins/Voice/CSoxr", pkgConfig: "soxr"),
        .target(name: "VoiceEngine", dependencies: ["CPocketSphinx", "CEspeakNG", "CSoxr"], path: "Plugins/Voice/Engine"),
        .target(
            name: "PlexusVoice",
            dependencies: [.product(name: "PlexusSDK", package: "SDK"), "VoiceEngine"],
            path: "Plugins/Voice/Plugin",
            linkerSettings: pluginLinkerSettings
        ),
        .executableTarget(name: "voice-bench", dependencies: ["VoiceEngine"], path: "Plugins/Voice/Bench"),
        // Visualization: the chart engine (no SDK dependency; cairo, pango and fontconfig for PNG/PDF) and the plugin on top.
        .systemLibrary(name: "CCairo", path: "Plugins/Visualization/CCairo", pkgConfig: "pangocairo"),
        .target(name: "ChartEngine", dependencies: ["CCairo"], path: "Plugins/Visualization/Engine"),
        .target(
            name: "PlexusVisualization",
            dependencies: [.product(name: "PlexusSDK", package: "SDK"), "ChartEngine"],
            path: "Plugins/Visualization/Plugin",
            linkerSettings: pluginLinkerSettings
        ),

        // Workflows: durable sagas and routing rules. The engine (definitions, interpreter, history
        // replay, router; no SDK dependency), the plugin type, its entry symbol, and its benchmark.
        .target(name: "WorkflowEngine", dependencies: ["PlexusTOML"], path: "Plugins/Workflows/Engine"),
        .target(
            name: "PlexusWorkflows",
            dependencies: [.product(name: "PlexusSDK", package: "SDK"), "WorkflowEngine"],
            path: "Plugins/Workflows/Plugin"
        ),
        .target(
            name: "PlexusWorkflowsEntry",
            dependencies: ["PlexusWorkflows", .product(name: "PlexusSDK", package: "SDK")],
            path: "Plugins/Workflows/Entry",
            linkerSettings: pluginLinkerSettings
        ),
        .executableTarget(name: "workflows-bench", dependencies: ["WorkflowEngine"], path: "Plugins/Workflows/Bench"),
        // White-label: the engine (tenants, domains, flags, layered settings with JSON Schema, branding,
        // logo checks; no SDK dependency), the plugin, its entry symbol, the flag helper other plugins
        // link (a local copy kept current from flags.changed), and the benchmark.
        .target(name: "WhiteLabelEngine", dependencies: ["CLibXML2", "XMLGuard"], path: "Plugins/WhiteLabel/Engine"),
        .target(
            name: "PlexusWhiteLabel",
            dependencies: [.product(name: "PlexusSDK", package: "SDK"), "WhiteLabelEngine", "WhiteLabelClient"],
            path: "Plugins/WhiteLabel/Plugin"
        ),
        .target(
            name: "PlexusWhiteLabelEntry",
            dependencies: ["PlexusWhiteLabel", .product(name: "PlexusSDK", package: "SDK")],
            path: "Plugins/WhiteLabel/Entry",
            linkerSettings: pluginLinkerSettings
        ),
        .target(name: "WhiteLabelClient", dependencies: [.product(name: "PlexusSDK", package: "SDK"), "WhiteLabelEngine"], path: "Plugins/WhiteLabel/Client"),
        .executableTarget(name: "whitelabel-bench", dependencies: ["WhiteLabelEngine"], path: "Plugins/WhiteLabel/Bench"),

        // MARK: Test fixtures and tests
        .target(
            name: "PlexusFixtureThrower",
            dependencies: [.product(name: "PlexusSDK", package: "SDK")],
            path: "Tests/Fixtures/SwiftThrower",
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "PlexusFixtureBusProbe",
            dependencies: [.product(name: "PlexusSDK", package: "SDK")],
            path: "Tests/Fixtures/SwiftBusProbe",
            linkerSettings: pluginLinkerSettings
        ),
        // The hand-written peer of the zlib native plugin (bench/native.sh).
        .target(
            name: "PlexusFixtureCRC",
            dependencies: [.product(name: "PlexusSDK", package: "SDK")],
            path: "Tests/Fixtures/SwiftCRC",
            linkerSettings: pluginLinkerSettings
        ),
        // Services for the workflow tests and bench/workflows.sh (no-op, slow, failing, garbage; a call log).
        .target(
            name: "PlexusFixtureWorkflowProbe",
            dependencies: [.product(name: "PlexusSDK", package: "SDK")],
            path: "Tests/Fixtures/SwiftWorkflowProbe",
            linkerSettings: pluginLinkerSettings
        ),
        .target(name: "PlexusFixtureNotes", dependencies: [.product(name: "PlexusSDK", package: "SDK")], path: "Tests/Fixtures/SwiftNotes/Plugin"),
        .target(
            name: "PlexusFixtureNotesEntry",
            dependencies: ["PlexusFixtureNotes", .product(name: "PlexusSDK", package: "SDK")],
            path: "Tests/Fixtures/SwiftNotes/Entry",
            linkerSettings: pluginLinkerSettings
        ),
        .target(name: "PlexusFixtureGuards", dependencies: [.product(name: "PlexusSDK", package: "SDK")], path: "Tests/Fixtures/SwiftGuards/Plugin"),
        .target(
            name: "PlexusFixtureGuardsEntry",
            dependencies: ["PlexusFixtureGuards", .product(name: "PlexusSDK", package: "SDK")],
            path: "Tests/Fixtures/SwiftGuards/Entry",
            linkerSettings: pluginLinkerSettings
        ),
        // Cancellation (ABI 1.6): handlers that work until their task is cancelled, and a roles/scopes echo.
        .target(name: "PlexusFixtureCancel", dependencies: [.product(name: "PlexusSDK", package: "SDK")], path: "Tests/Fixtures/SwiftCancel/Plugin"),
        .target(
            name: "PlexusFixtureCancelEntry",
            dependencies: ["PlexusFixtureCancel", .product(name: "PlexusSDK", package: "SDK")],
            path: "Tests/Fixtures/SwiftCancel/Entry",
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "PlexusFixtureMetrics",
            dependencies: [.product(name: "PlexusSDK", package: "SDK"), .product(name: "CoreMetrics", package: "swift-metrics")],
            path: "Tests/Fixtures/SwiftMetricsProbe",
            linkerSettings: pluginLinkerSettings
        ),
        .testTarget(
            name: "PlexusRuntimeTests",
            dependencies: ["PlexusRuntime", .product(name: "PlexusSDK", package: "SDK"), "PlexusEventLog", "JWTMinting"],
            path: "Tests/PlexusRuntimeTests",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // A plugin's tests, each body run in-process (TestHost) and live (TestRuntime). They link the
        // plugin type, not its entry target: every test target lands in one test binary.
        .testTarget(name: "HelloPluginTests", dependencies: ["PlexusHello", .product(name: "PlexusTesting", package: "SDK")], path: "Tests/HelloPluginTests"),
        .testTarget(name: "PlexusTestingTests", dependencies: [.product(name: "PlexusTesting", package: "SDK")], path: "Tests/PlexusTestingTests"),
        .testTarget(name: "GatewayPolicyTests", dependencies: ["PlexusFixtureGuards", .product(name: "PlexusTesting", package: "SDK")], path: "Tests/GatewayPolicyTests"),
        // Counts the heap allocations of one thread (a replacement malloc): allocation-count tests only.
        .target(name: "CAllocCounter", path: "Tests/CAllocCounter"),
        .testTarget(name: "AllocationTests", dependencies: ["PlexusRuntime", "CAllocCounter", .product(name: "PlexusTesting", package: "SDK")],
                    path: "Tests/AllocationTests", swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "CancellationTests", dependencies: ["PlexusFixtureCancel", .product(name: "PlexusTesting", package: "SDK")], path: "Tests/CancellationTests"),
        .testTarget(name: "NotesPluginTests", dependencies: ["PlexusFixtureNotes", .product(name: "PlexusTesting", package: "SDK")], path: "Tests/NotesPluginTests"),
        .testTarget(
            name: "DocDiffTests",
            dependencies: ["DocDiff", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            path: "Tests/DocDiffTests"
        ),
        .testTarget(
            name: "DocCompareTests",
            dependencies: ["PlexusDocCompare", .product(name: "PlexusTesting", package: "SDK"), "PostgresTestSupport"],
            path: "Tests/DocCompareTests",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(name: "kv-bench", dependencies: ["PlexusStorage", "CSQLite"], path: "bench/kv-bench"),
        .executableTarget(name: "bus-bench", dependencies: ["PlexusRuntime"], path: "bench/bus-bench"),
        .executableTarget(name: "eventlog-bench", dependencies: ["PlexusEventLog"], path: "bench/eventlog-bench"),
        .testTarget(name: "PlexusAuthTests", dependencies: ["PlexusAuth"], path: "Tests/PlexusAuthTests"),
        .testTarget(name: "PlexusPolicyTests", dependencies: ["PlexusPolicy", "PostgresTestSupport"], path: "Tests/PlexusPolicyTests"),
        .testTarget(name: "PlexusStorageTests", dependencies: ["PlexusStorage", "CLibPQ", "PostgresTestSupport"], path: "Tests/PlexusStorageTests"),
        .testTarget(name: "PlexusEventLogTests", dependencies: ["PlexusEventLog"], path: "Tests/PlexusEventLogTests"),
        .testTarget(name: "VoiceEngineTests", dependencies: ["VoiceEngine"], path: "Tests/VoiceEngineTests"),
        .testTarget(name: "VoiceTests", dependencies: [.product(name: "PlexusTesting", package: "SDK")], path: "Tests/VoiceTests", swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "ChartEngineTests", dependencies: ["ChartEngine", "CCairo"], path: "Tests/ChartEngineTests"),
        .testTarget(
            name: "VisualizationTests",
            dependencies: [.product(name: "PlexusTesting", package: "SDK"), "PostgresTestSupport"],
            path: "Tests/VisualizationTests",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(name: "WhiteLabelEngineTests", dependencies: ["WhiteLabelEngine"], path: "Tests/WhiteLabelEngineTests"),
        .testTarget(
            name: "WhiteLabelTests",
            dependencies: ["PlexusWhiteLabel", "WhiteLabelClient", .product(name: "PlexusTesting", package: "SDK"), "PostgresTestSupport"],
            path: "Tests/WhiteLabelTests",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(name: "TimetableSolverTests", dependencies: ["TimetableSolver"], path: "Tests/TimetableSolverTests"),
        .testTarget(name: "WorkflowEngineTests", dependencies: ["WorkflowEngine"], path: "Tests/WorkflowEngineTests"),
        .testTarget(
            name: "WorkflowsTests",
            dependencies: ["PlexusWorkflows", "WorkflowEngine", .product(name: "PlexusTesting", package: "SDK"), "PostgresTestSupport"],
            path: "Tests/WorkflowsTests",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(name: "ComplianceEngineTests", dependencies: ["ComplianceEngine"], path: "Tests/ComplianceEngineTests"),
        .testTarget(
            name: "ComplianceTests",
            dependencies: ["PlexusCompliance", .product(name: "PlexusTesting", package: "SDK"), "PostgresTestSupport"],
            path: "Tests/ComplianceTests",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "TimetableTests",
            dependencies: ["PlexusTimetable", .product(name: "PlexusTesting", package: "SDK"), "PostgresTestSupport"],
            path: "Tests/TimetableTests",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // Mints JWTs (and the gateway's forgery matrix) for the gateway tests, in-process and live.
        .target(
            name: "JWTMinting",
            dependencies: [.product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto")],
            path: "Tests/Support/JWTMinting"
        ),
        .testTarget(
            name: "PlexusIntegrationTests",
            dependencies: [.product(name: "PlexusTesting", package: "SDK"), "JWTMinting", "PostgresTestSupport", "WebSocketTestClient", .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto")],
            path: "Tests/PlexusIntegrationTests",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // MARK: Cluster mode on Redis (issue 20)
        // Debian's hiredis 0.14 (libhiredis-dev) and its libuv adapter, for Runtime/PlexusRuntime/Cluster.
        .systemLibrary(name: "CHiredis", path: "Runtime/CHiredis", pkgConfig: "hiredis"),
        // Its tests: the parts alone, the client and the Streams store in-process against a real
        // redis-server, and three plexus instances against one (they start and stop redis-server).
        .testTarget(
            name: "ClusterRedisTests",
            dependencies: ["PlexusRuntime", "PlexusEventLog", .product(name: "PlexusTesting", package: "SDK"),
                           .product(name: "Logging", package: "swift-log"), "WebSocketTestClient"],
            path: "Tests/ClusterRedisTests",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // Plugin storage on SQLite and PostgreSQL against raw SQLite and raw libpq (bench/storage.sh).
        .executableTarget(name: "storage-bench", dependencies: ["PlexusStorage", "CSQLite", "CLibPQ", "CLibUV"], path: "bench/storage-bench"),
        // A throw-away PostgreSQL cluster (initdb, pg_ctl on a free loopback port) for the tests that need one.
        .target(name: "PostgresTestSupport", dependencies: ["CLibPQ"], path: "Tests/Support/PostgresTestSupport"),
        // A blocking RFC 6455 client for the live WebSocket tests (integration and cluster).
        .target(name: "WebSocketTestClient", dependencies: [.product(name: "PlexusTesting", package: "SDK")], path: "Tests/Support/WebSocketTestClient"),
        // The .docx reader (issue 23): libzip opens the zip from memory, libxml2's streaming reader walks
        // word/document.xml (Debian's libzip-dev and libxml2-dev). ZIPFoundation stays for the tests' archives.
        .systemLibrary(name: "CLibZip", path: "Plugins/DocCompare/CLibZip", pkgConfig: "libzip"),
        .systemLibrary(name: "CLibXML2", path: "Plugins/DocCompare/CLibXML2", pkgConfig: "libxml-2.0"),
        // TOML 1.0 for the runtime config, plugin configs, native manifests and workflow definitions (issue 23:
        // replaces TOMLKit 0.6.0, whose toml++ aborted on an assertion and which leaked every table).
        .target(name: "PlexusTOML", path: "Runtime/PlexusTOML"),
        // Bounds what libxml2 does with client XML (attributes, namespaces, depth, DOCTYPE, encoding)
        // before it parses: used by the .docx reader and the SVG logo check.
        .target(name: "XMLGuard", path: "Plugins/Shared/XMLGuard"),
        .testTarget(name: "XMLGuardTests", dependencies: ["XMLGuard"], path: "Tests/XMLGuardTests"),
        .testTarget(name: "PlexusTOMLTests", dependencies: ["PlexusTOML"], path: "Tests/PlexusTOMLTests"),
        // The .docx reader against the one it replaced (ZIPFoundation + FoundationXML, kept in the bench only): bench/docx.sh.
        .executableTarget(name: "docx-bench", dependencies: ["DocDiff", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                          path: "bench/docx-bench", swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)

// MARK: Fuzzing (issue 23)
// One libFuzzer executable holding every harness (Fuzz/README.md). It exists only when PLEXUS_FUZZ=1,
// as scripts/fuzz.sh sets, which builds it with `--sanitize=fuzzer --sanitize=address` into
// .build-fuzz: the ordinary build and test command never compile it. It links the runtime and the
// engine targets, never a plugin.
if ProcessInfo.processInfo.environment["PLEXUS_FUZZ"] == "1" {
    package.targets.append(.executableTarget(
        name: "plexus-fuzz",
        dependencies: ["PlexusRuntime", "PlexusAuth", "DocDiff", "TimetableSolver", "ComplianceEngine", "VoiceEngine",
                       "ChartEngine", "WorkflowEngine", "PlexusEventLog", "CLibUV", "WhiteLabelEngine",
                       .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")],
        path: "Fuzz/Harnesses",
        swiftSettings: [.swiftLanguageMode(.v5)]
    ))
    package.products.append(.executable(name: "plexus-fuzz", targets: ["plexus-fuzz"]))
}

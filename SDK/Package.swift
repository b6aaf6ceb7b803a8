// swift-tools-version:6.0
import PackageDescription

/// What a plugin author depends on: the C ABI header, the Swift SDK a plugin links statically,
/// and the test kit (TestHost in-process, TestRuntime over the real binary). It needs swift-log
/// and swift-metrics only, never the runtime's own dependencies.
let package = Package(
    name: "PlexusSDK",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "CPlexusABI", targets: ["CPlexusABI"]),
        .library(name: "PlexusSDK", targets: ["PlexusSDK"]),
        .library(name: "PlexusTesting", targets: ["PlexusTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.7.0"),
    ],
    targets: [
        .target(name: "CPlexusABI", path: "CPlexusABI"),
        .target(
            name: "PlexusSDK",
            dependencies: ["CPlexusABI", .product(name: "Logging", package: "swift-log"), .product(name: "CoreMetrics", package: "swift-metrics")],
            path: "PlexusSDK"
        ),
        // The test kit: TestHost (a plugin in-process over in-memory drivers and a real in-memory SQLite)
        // and TestRuntime (the real binary), behind one PluginTestClient protocol.
        .systemLibrary(name: "CPlexusTestingSQLite", path: "CPlexusTestingSQLite", pkgConfig: "sqlite3"),
        .target(
            name: "PlexusTesting",
            dependencies: ["PlexusSDK", "CPlexusTestingSQLite", .product(name: "Logging", package: "swift-log")],
            path: "PlexusTesting"
        ),
    ]
)

import Foundation

/// The files of a new plugin package: a manifest, the plugin type in one target and its entry
/// symbol in another (tests link the first), the export list, and one test body run in-process
/// (`TestHost`) and in the real runtime (`LiveTestClient`).
struct PluginScaffold {
    let name: String
    let plexusRoot: URL
    let plexusBinary: URL

    /// `my-plugin` → `MyPlugin`.
    var moduleName: String {
        name.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    func files() -> [(String, String)] {
        [
            ("Package.swift", packageManifest),
            ("exports.map", "{ global: plexus_plugin_entry_v1; local: *; };\n"),
            ("Sources/\(moduleName)/\(moduleName)Plugin.swift", pluginSource),
            ("Sources/\(moduleName)Entry/Entry.swift", entrySource),
            ("Tests/\(moduleName)Tests/\(moduleName)Tests.swift", testSource),
            ("README.md", readme),
            (".gitignore", ".build/\nPackage.resolved\n"),
        ]
    }

    private var packageManifest: String {
        """
        // swift-tools-version:6.0
        import Foundation
        import PackageDescription

        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

        let package = Package(
            name: "\(name)",
            products: [
                .library(name: "\(moduleName)", type: .dynamic, targets: ["\(moduleName)Entry"]),
            ],
            dependencies: [
                // The SDK package alone (swift-log and swift-metrics), not the runtime's dependencies.
                .package(path: "\(plexusRoot.appendingPathComponent("SDK").path)"),
            ],
            targets: [
                // The plugin type: what the tests link and run in-process.
                .target(name: "\(moduleName)", dependencies: [.product(name: "PlexusSDK", package: "SDK")]),
                // The library's entry symbol, alone: every test target links into one test binary.
                .target(
                    name: "\(moduleName)Entry",
                    dependencies: ["\(moduleName)", .product(name: "PlexusSDK", package: "SDK")],
                    // Export only the plugin's entry symbol.
                    linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\\(root)/exports.map"])]
                ),
                .testTarget(
                    name: "\(moduleName)Tests",
                    dependencies: ["\(moduleName)", .product(name: "PlexusTesting", package: "SDK")]
                ),
            ]
        )

        """
    }

    private var pluginSource: String {
        """
        import PlexusSDK

        /// The \(name) plugin.
        @PluginActor
        public final class \(moduleName)Plugin: Plugin {
            public static let manifest = PluginManifest(
                name: "\(name)",
                version: "0.1.0",
                description: "The \(name) plugin",
                configKeys: ["greeting"]
            )

            private let greeting: String

            public init(context: PluginContext) throws {
                greeting = context.config.string("greeting", default: "Hello from \(name)")
                // Authenticated callers only (the default); RouteOptions.public opens a route to anyone.
                try context.routes.get("/api/v1/\(name)/hello", options: RouteOptions(summary: "A greeting")) { [greeting] request in
                    .text("\\(greeting), \\(request.caller?.subject ?? "stranger")!\\n")
                }
            }
        }

        """
    }

    private var entrySource: String {
        """
        import \(moduleName)
        import PlexusSDK

        /// The library's one exported symbol: the runtime's way into the plugin.
        @_cdecl("plexus_plugin_entry_v1")
        public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
            PluginExport.descriptor(for: \(moduleName)Plugin.self, host: host)
        }

        """
    }

    private var testSource: String {
        """
        import Foundation
        import \(moduleName)
        import PlexusTesting
        import XCTest

        /// One test body, run two ways: in-process (the plugin type in this process over the test
        /// kit's in-memory host) and live (the built library in the real plexus, over a socket).
        /// Build first (`swift build`); set PLEXUS_BINARY to use another plexus.
        final class \(moduleName)Tests: XCTestCase {
            static let buildDirectory = URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug")
            static let ada = TestCaller("ada")

            func testHelloInProcess() async throws {
                try await hello(try await TestHost.start(\(moduleName)Plugin.self, config: ["greeting": "Hi"]))
            }

            func testHelloLive() async throws {
                let binary = ProcessInfo.processInfo.environment["PLEXUS_BINARY"] ?? "\(plexusBinary.path)"
                let plugin = Self.buildDirectory.appendingPathComponent("lib\(moduleName).so")
                let plexus = try TestRuntime(binary: URL(fileURLWithPath: binary), plugins: [plugin],
                                             pluginConfigs: ["\(name)": "greeting = \\"Hi\\"\\n"])
                try await hello(LiveTestClient(runtime: plexus))
                XCTAssertEqual(plexus.stop(), 0)
            }

            /// Without credentials the gateway answers 401; a caller (an API key when live) is greeted by name.
            func hello(_ client: some PluginTestClient) async throws {
                let anonymous = try await client.get("/api/v1/\(name)/hello")
                XCTAssertEqual(anonymous.status, 401)
                let response = try await client.get("/api/v1/\(name)/hello", caller: Self.ada)
                XCTAssertEqual(response.status, 200, response.text)
                XCTAssertEqual(response.text, "Hi, ada!\\n")
            }
        }

        """
    }

    private var readme: String {
        """
        # \(name)

        A Plexus plugin.

        ```sh
        swift build && swift test          # builds lib\(moduleName).so; tests run it in-process and in plexus
        cp .build/debug/lib\(moduleName).so /path/to/plugins.d/
        ```

        """
    }
}

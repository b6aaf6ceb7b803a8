import Foundation

/// The files of a new plugin package: a manifest, one route, the export list, and a test that
/// runs the plugin in the real runtime.
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
                .library(name: "\(moduleName)", type: .dynamic, targets: ["\(moduleName)"]),
            ],
            dependencies: [
                // The SDK package alone (swift-log and swift-metrics), not the runtime's dependencies.
                .package(path: "\(plexusRoot.appendingPathComponent("SDK").path)"),
            ],
            targets: [
                .target(
                    name: "\(moduleName)",
                    dependencies: [.product(name: "PlexusSDK", package: "SDK")],
                    // Export only the plugin's entry symbol.
                    linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\\(root)/exports.map"])]
                ),
                .testTarget(
                    name: "\(moduleName)Tests",
                    dependencies: [.product(name: "PlexusTesting", package: "SDK")],
                    swiftSettings: [.swiftLanguageMode(.v5)]
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
        final class \(moduleName)Plugin: Plugin {
            static let manifest = PluginManifest(
                name: "\(name)",
                version: "0.1.0",
                description: "The \(name) plugin"
            )

            private let greeting: String

            init(context: PluginContext) throws {
                greeting = context.config.string("greeting", default: "Hello from \(name)")
                // Authenticated callers only (the default); RouteOptions.public opens a route to anyone.
                try context.routes.get("/api/v1/\(name)/hello", options: RouteOptions(summary: "A greeting")) { [greeting] request in
                    .text("\\(greeting), \\(request.caller?.subject ?? "stranger")!\\n")
                }
            }
        }

        @_cdecl("plexus_plugin_entry_v1")
        public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
            PluginExport.descriptor(for: \(moduleName)Plugin.self, host: host)
        }

        """
    }

    private var testSource: String {
        """
        import Foundation
        import PlexusTesting
        import XCTest

        /// Runs the built plugin inside the real plexus runtime and calls its route over a socket.
        /// Build first (`swift build`); set PLEXUS_BINARY to use another plexus.
        final class \(moduleName)Tests: XCTestCase {
            static let buildDirectory = URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug")

            func testHelloRoute() throws {
                let binary = ProcessInfo.processInfo.environment["PLEXUS_BINARY"] ?? "\(plexusBinary.path)"
                let plugin = Self.buildDirectory.appendingPathComponent("lib\(moduleName).so")
                let plexus = try TestRuntime(binary: URL(fileURLWithPath: binary), plugins: [plugin],
                                             pluginConfigs: ["\(name)": "greeting = \\"Hi\\"\\n"])
                // Without credentials the runtime's gateway answers 401; the test kit's default
                // credential is the admin key the runtime wrote (subject "plexus-admin").
                XCTAssertEqual(try plexus.get("/api/v1/\(name)/hello", anonymous: true).status, 401)
                let response = try plexus.get("/api/v1/\(name)/hello")
                XCTAssertEqual(response.status, 200, plexus.log)
                XCTAssertEqual(response.text, "Hi, plexus-admin!\\n")
                XCTAssertEqual(plexus.stop(), 0)
            }
        }

        """
    }

    private var readme: String {
        """
        # \(name)

        A Plexus plugin.

        ```sh
        swift build && swift test          # builds lib\(moduleName).so and runs it in plexus
        cp .build/debug/lib\(moduleName).so /path/to/plugins.d/
        ```

        """
    }
}

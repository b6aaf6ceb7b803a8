import Foundation
import PlexusTesting
import XCTest

/// A plugins directory with good plugins and one broken fixture per failure mode: the good ones
/// answer, and each bad one is reported with its diagnosis while the runtime keeps serving.
final class PluginLoadingTests: XCTestCase {
    static let brokenFixtures: [(file: String, diagnosis: String)] = [
        ("garbage.so", "not an ELF shared object"),
        ("empty.so", "not an ELF shared object (expected 7f 45 4c 46, found an empty file)"),
        ("unresolved.so", "unresolved symbol 'plexus_fixture_function_that_does_not_exist'"),
        ("no-entry.so", "no entry symbol 'plexus_plugin_entry_v1'"),
        ("abi-v2-entry.so", "built for plugin ABI 2.x, this runtime speaks ABI 1.10"),
        ("abi-major.so", "built for plugin ABI 2.10, this runtime speaks ABI 1.10"),
        ("small-descriptor.so", "descriptor is 16 bytes, ABI 1.0 needs at least"),
        ("zz-duplicate.so", "duplicate plugin name 'hello-c', already loaded from hello-c.so"),
        ("missing-dep.so", "needs 'nonexistent' ^1.0, but no plugin of that name is in the plugins directory"),
        ("dep-version.so", "needs 'hello-c' >=2.0.0 <3.0.0, found 1.2.0"),
        ("cycle-a.so", "dependency cycle: cycle-a -> cycle-b -> cycle-a"),
        ("cycle-b.so", "dependency cycle: cycle-a -> cycle-b -> cycle-a"),
        ("init-fails.so", "failed in on_init: required config key 'database_url' is missing"),
        ("start-fails.so", "failed to start: cannot reach upstream service"),
        ("start-hangs.so", "plugin 'start-hangs' did not finish starting within 700 ms"),
        ("route-collision.so", "GET /api/v1/c/hello of plugin 'route-collision' collides with GET /api/v1/c/hello of plugin 'hello-c'"),
        // A plugin route on a built-in endpoint's path used to be shadowed silently; now the plugin fails, told why.
        ("route-openapi.so", "GET /openapi.json of plugin 'route-openapi' is on the path of the runtime's built-in endpoint GET /openapi.json"),
        ("libPlexusFixtureThrower.so", "plugin 'thrower' failed to start: database credentials missing (fixture failure)"),
        // Linked with libswiftCore but built by another Swift: named in the ABI 1.4 field, or in an ABI 1.3 descriptor's text.
        ("swift-toolchain-field.so", "swift-toolchain-field.so: built by Swift 5.9, this runtime was built by Swift 6."),
        ("swift-toolchain-text.so", "swift-toolchain-text.so: built by Swift 5.10, this runtime was built by Swift 6."),
    ]

    func testGoodPluginsAnswerAndEveryBrokenOneIsDiagnosed() throws {
        let cFixtures = ["hello-c", "greeter-c", "newer-minor"] + Self.brokenFixtures.map(\.file).filter { !$0.hasPrefix("lib") }.map { String($0.dropLast(3)) }
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusHello.so", "libPlexusFixtureThrower.so"], cFixtures: cFixtures,
                                       pluginConfigs: ["hello-c": "greeting = \"howdy\"\n"],
                                       pluginSettings: "start_timeout_ms = 700")
        // The good plugins answer: Swift, C (reading its config), and a C plugin that depends on another.
        XCTAssertEqual(try plexus.get("/api/v1/hello/plexus").text, "Hello, plexus!\n")
        XCTAssertTrue(try plexus.get("/api/v1/c/hello").text.hasPrefix("howdy from C"))
        XCTAssertEqual(try plexus.get("/api/v1/c/greeter").status, 200)
        // Built for ABI 1.11 with a larger descriptor: a newer minor of the same major still loads.
        XCTAssertEqual(try plexus.get("/api/v1/c/newer").status, 200)

        let plugins = try plexus.pluginsByFile()
        XCTAssertEqual(plugins["newer-minor.so"]?["abi"] as? String, "1.11")
        for name in ["libPlexusHello.so", "hello-c.so", "greeter-c.so", "newer-minor.so"] {
            XCTAssertEqual(plugins[name]?["state"] as? String, "running", "\(name): \(plugins[name] ?? [:])")
        }
        for (file, diagnosis) in Self.brokenFixtures {
            let entry = try XCTUnwrap(plugins[file], "\(file) is missing from /admin/plugins")
            XCTAssertEqual(entry["state"] as? String, "failed", file)
            let reason = entry["reason"] as? String ?? ""
            XCTAssertTrue(reason.contains(diagnosis), "\(file): expected '\(diagnosis)' in '\(reason)'")
            XCTAssertTrue(plexus.log.contains(diagnosis), "\(file): diagnosis not logged")
        }
        // The runtime's own document still answers on the path the refused plugin asked for.
        let document = try plexus.get("/openapi.json")
        XCTAssertEqual(document.status, 200)
        XCTAssertTrue(document.text.contains(#""paths""#) && !document.text.contains("route-openapi"), document.text)
        // A failed plugin's routes are not served.
        XCTAssertEqual(try plexus.get("/api/v1/thrower").status, 404)
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testDependentStartsAfterItsDependencyAndStopsBefore() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: ["greeter-c", "hello-c"], extra: "[log]\nlevel = \"debug\"")
        XCTAssertEqual(plexus.stop(), 0)
        let log = plexus.log
        let helloRunning = try XCTUnwrap(log.range(of: "plugin=hello-c routes=1"))
        let greeterRunning = try XCTUnwrap(log.range(of: "plugin=greeter-c routes=1"))
        XCTAssertLessThan(helloRunning.lowerBound, greeterRunning.lowerBound, "greeter-c must start after hello-c")
        let greeterStopping = try XCTUnwrap(log.range(of: #"plugin=greeter-c.*state=stopped"#, options: .regularExpression))
        let helloStopping = try XCTUnwrap(log.range(of: #"plugin=hello-c.*state=stopped"#, options: .regularExpression))
        XCTAssertLessThan(greeterStopping.lowerBound, helloStopping.lowerBound, "greeter-c must stop before hello-c")
    }
}

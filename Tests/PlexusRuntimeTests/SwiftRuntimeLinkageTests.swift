import Foundation
@testable import PlexusRuntime
import XCTest

/// A host with the Swift standard library linked statically refuses plugins that need the
/// shared Swift runtime, from their `DT_NEEDED` entries, read without trusting the file.
final class SwiftRuntimeLinkageTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    private var swiftPlugin: URL { root.appendingPathComponent(".build/debug/libPlexusHello.so") }

    private func cPlugin() throws -> URL {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("linkage-\(UUID().uuidString.prefix(8))")
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/bin/bash")
        build.arguments = [root.appendingPathComponent("Tests/Fixtures/CPlugins/build.sh").path, output.path]
        build.standardOutput = FileHandle.nullDevice
        try build.run()
        build.waitUntilExit()
        return output.appendingPathComponent("hello-c.so")
    }

    func testReadsTheNeededLibrariesOfSwiftAndCPlugins() throws {
        let swift = try XCTUnwrap(SwiftRuntimeLinkage.neededLibraries(Array(try Data(contentsOf: swiftPlugin))))
        XCTAssertTrue(swift.contains("libswiftCore.so"), "\(swift)")
        let c = try XCTUnwrap(SwiftRuntimeLinkage.neededLibraries(Array(try Data(contentsOf: try cPlugin()))))
        XCTAssertTrue(c.contains { $0.hasPrefix("libc.so") }, "\(c)")
        XCTAssertFalse(c.contains { $0.hasPrefix("libswift") }, "\(c)")
    }

    func testOnlyAStaticHostRefusesASwiftPlugin() throws {
        XCTAssertFalse(SwiftRuntimeLinkage.hostIsStatic, "this test process uses the shared Swift runtime")
        XCTAssertNoThrow(try SwiftRuntimeLinkage.check(swiftPlugin, hostIsStatic: false))
        XCTAssertNoThrow(try SwiftRuntimeLinkage.check(try cPlugin(), hostIsStatic: true))
        XCTAssertThrowsError(try SwiftRuntimeLinkage.check(swiftPlugin, hostIsStatic: true)) { error in
            let failure = error as? PluginLoadError
            XCTAssertEqual(failure?.kind, .swiftRuntimeConflict)
            XCTAssertTrue(failure?.message.contains("libPlexusHello.so: needs the shared Swift runtime (libswiftCore.so)") == true, "\(error)")
        }
    }

    func testTruncatedAndHostileFilesNeverCrashTheReader() throws {
        let bytes = Array(try Data(contentsOf: swiftPlugin))
        var cuts = Array(stride(from: 0, to: min(bytes.count, 8192), by: 7))
        cuts += Array(stride(from: 8192, to: bytes.count, by: max(1, bytes.count / 500)))
        for cut in cuts { _ = SwiftRuntimeLinkage.neededLibraries(Array(bytes.prefix(cut))) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var damaged = Array(bytes.prefix(65_536))
            for _ in 0..<16 { damaged[Int.random(in: 0..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            _ = SwiftRuntimeLinkage.neededLibraries(damaged)
        }
        XCTAssertNil(SwiftRuntimeLinkage.neededLibraries(Array("this is a text file, not a plugin\n".utf8)))
        XCTAssertNil(SwiftRuntimeLinkage.neededLibraries([]))
        // Program header table pointing far outside the file.
        var header = Array(bytes.prefix(64))
        for index in 0x20..<0x28 { header[index] = 0xFF }
        XCTAssertNil(SwiftRuntimeLinkage.neededLibraries(header))
    }
}

import CPlexusABI
import Foundation
@testable import PlexusRuntime
import PlexusSDK
import XCTest

/// A plugin that links the Swift runtime must have been built by the runtime's Swift
/// (major.minor); C plugins are never compared.
final class SwiftToolchainCheckTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    private var swiftPlugin: URL { root.appendingPathComponent(".build/debug/libPlexusHello.so") }
    private var cPlugin: URL { root.appendingPathComponent("Tests/Fixtures/CPlugins/fixture.c") }

    private func descriptor(minor: UInt32 = 4, toolchain: String, compiler: UInt32 = 0, size: Int = MemoryLayout<plexus_plugin>.size) -> plexus_plugin {
        var raw = plexus_plugin()
        raw.struct_size = UInt32(size)
        raw.abi_major = 1
        raw.abi_minor = minor
        raw.toolchain = UnsafePointer(strdup(toolchain))
        raw.swift_compiler = compiler
        return raw
    }

    func testTheSDKRecordsTheCompilerThatBuiltTheRuntime() {
        XCTAssertEqual(PluginExport.swiftCompiler, SwiftToolchainCheck.runtimeCompiler,
                       "the SDK's and the runtime's #if compiler tables must agree")
        XCTAssertGreaterThanOrEqual(SwiftToolchainCheck.runtimeCompiler, 600)
    }

    func testTheDeclaredCompilerComesFromTheFieldThenFromTheText() {
        XCTAssertEqual(SwiftToolchainCheck.declaredCompiler(descriptor(toolchain: "Swift 6.3", compiler: 509)), 509)
        // ABI 1.3 descriptors have no field: the text "Swift X.Y" speaks for them.
        XCTAssertEqual(SwiftToolchainCheck.declaredCompiler(descriptor(minor: 3, toolchain: "Swift 6.2", compiler: 509)), 602)
        XCTAssertEqual(SwiftToolchainCheck.declaredCompiler(descriptor(minor: 3, toolchain: "Swift 6.4+")), 604)
        XCTAssertEqual(SwiftToolchainCheck.declaredCompiler(descriptor(toolchain: "Swift 5.10")), 510)
        // A 1.4 descriptor too short to hold the field is read by its text.
        XCTAssertEqual(SwiftToolchainCheck.declaredCompiler(descriptor(toolchain: "Swift 6.1", compiler: 509, size: 152)), 601)
        for text in ["C", "", "Swift", "Swift 6", "Swift six.three", "Swift 6.300", "swift 6.3", "Swift .3"] {
            XCTAssertNil(SwiftToolchainCheck.declaredCompiler(descriptor(toolchain: text)), text)
        }
    }

    func testTheSDKSetsNothingUpForARuntimeOfAnotherCompiler() throws {
        // The host tells its compiler (ABI 1.4): the SDK answers with a bare descriptor at once,
        // before it binds executors or builds the plugin, and the loader refuses it naming both.
        var host = plexus_host()
        host.struct_size = UInt32(MemoryLayout<plexus_host>.size)
        host.abi_major = 1
        host.abi_minor = 4
        host.swift_compiler = 509
        let raw = try XCTUnwrap(withUnsafePointer(to: &host) { PluginExport.descriptor(for: NeverBuiltPlugin.self, host: UnsafeRawPointer($0)) })
        let descriptor = raw.assumingMemoryBound(to: plexus_plugin.self).pointee
        XCTAssertEqual(descriptor.swift_compiler, PluginExport.swiftCompiler)
        XCTAssertNil(descriptor.on_init, "nothing of the plugin is set up")
        XCTAssertThrowsError(try SwiftToolchainCheck.check(descriptor, file: swiftPlugin, displayName: "p.so", runtime: 509)) { error in
            XCTAssertTrue("\(error)".hasPrefix("p.so: built by \(SwiftToolchainCheck.name(PluginExport.swiftCompiler)), this runtime was built by Swift 5.9"), "\(error)")
        }
    }

    func testASwiftPluginOfAnotherCompilerIsRefusedNamingBoth() throws {
        let runtime = SwiftToolchainCheck.runtimeCompiler
        XCTAssertNoThrow(try SwiftToolchainCheck.check(descriptor(toolchain: "Swift", compiler: runtime), file: swiftPlugin, displayName: "a.so"))
        XCTAssertThrowsError(try SwiftToolchainCheck.check(descriptor(toolchain: "Swift 5.9", compiler: 509), file: swiftPlugin, displayName: "a.so")) { error in
            let failure = error as? PluginLoadError
            XCTAssertEqual(failure?.kind, .swiftToolchainMismatch)
            XCTAssertTrue(failure?.message.hasPrefix("a.so: built by Swift 5.9, this runtime was built by \(SwiftToolchainCheck.name(runtime))") == true, "\(error)")
        }
        // Another minor of the same major is another ABI on Linux.
        XCTAssertThrowsError(try SwiftToolchainCheck.check(descriptor(toolchain: "", compiler: runtime + 1), file: swiftPlugin, displayName: "a.so"))
        XCTAssertThrowsError(try SwiftToolchainCheck.check(descriptor(toolchain: "C"), file: swiftPlugin, displayName: "a.so")) { error in
            XCTAssertTrue("\(error)".contains("links the Swift runtime but its descriptor names no Swift compiler"), "\(error)")
        }
        // Not a Swift plugin (this is not even an ELF file): never compared.
        XCTAssertNoThrow(try SwiftToolchainCheck.check(descriptor(toolchain: "Swift 5.9", compiler: 509), file: cPlugin, displayName: "c.so"))
    }
}

/// A plugin whose manifest and initializer must never run (the compiler check comes first).
final class NeverBuiltPlugin: Plugin {
    static var manifest: PluginManifest { preconditionFailure("the manifest of a plugin for another Swift was read") }
    init(context: PluginContext) throws { preconditionFailure("a plugin for another Swift was built") }
}

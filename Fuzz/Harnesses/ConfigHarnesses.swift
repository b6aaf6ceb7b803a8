import Foundation
@testable import PlexusRuntime

/// Files an operator writes: the runtime's TOML config, a plugin's TOML config (the same
/// reader, then the plugin's declared keys), and a native plugin's manifest.
enum ConfigHarnesses {
    static let all: [Harness] = [
        Harness(name: "runtime-config", summary: "plexus.toml (RuntimeConfig(file:)) and a plugin's TOML config", run: runtimeConfig),
        Harness(name: "native-manifest", summary: "a native plugin's manifest TOML (NativeManifest)", run: nativeManifest),
    ]

    /// The readers take a file: one per process, in memory where /dev/shm exists.
    static let file: URL = {
        let directory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return URL(fileURLWithPath: directory).appendingPathComponent("plexus-fuzz-\(getpid()).toml")
    }()

    static func runtimeConfig(_ input: UnsafeRawBufferPointer) {
        FileManager.default.createFile(atPath: file.path, contents: Data(input))
        defer { try? FileManager.default.removeItem(at: file) }
        _ = try? RuntimeConfig(file: file)
        if let values = try? TOMLFile.flatten(contentsOf: file) {
            // (PluginConfigValues keeps C copies for the plugin's lifetime by design: not exercised here.)
            _ = try? PluginConfigKeys(["greeting", "limits.*"]).check(values, plugin: "fuzz", file: file.path)
        }
    }

    static func nativeManifest(_ input: UnsafeRawBufferPointer) {
        _ = try? NativeManifest(text: input.text, file: "fuzz.toml")
    }
}

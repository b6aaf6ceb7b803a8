import ArgumentParser
import Foundation
import PlexusRuntime

struct New: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scaffold a standalone plugin package that builds against the Plexus SDK and tests itself with PlexusTesting."
    )

    @Argument(help: "The plugin's name: lower-case letters, digits and '-', starting with a letter.")
    var name: String
    @Option(help: "Directory to create the package in (default: ./<name>).")
    var output: String?
    @Option(help: "Path of the Plexus source tree the package depends on (default: the tree this plexus was built from).")
    var plexusPath: String?

    func validate() throws {
        guard PluginManifestInfo.isValidName(name) else {
            throw ValidationError("'\(name)' is not a plugin name: use lower-case letters, digits and '-', starting with a letter")
        }
    }

    func run() throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let sdkRoot = try plexusPath.map { URL(fileURLWithPath: $0).standardizedFileURL } ?? Self.sourceTree(of: executable)
        guard FileManager.default.fileExists(atPath: sdkRoot.appendingPathComponent("SDK/CPlexusABI/include/plexus_abi.h").path) else {
            throw CommandFailure("\(sdkRoot.path) is not a Plexus source tree (no SDK/CPlexusABI/include/plexus_abi.h); pass --plexus-path")
        }
        let directory = URL(fileURLWithPath: output ?? name).standardizedFileURL
        guard !FileManager.default.fileExists(atPath: directory.path) else {
            throw CommandFailure("\(directory.path) already exists; choose another --output")
        }
        let files = PluginScaffold(name: name, plexusRoot: sdkRoot, plexusBinary: executable).files()
        for (path, text) in files {
            let url = directory.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        print("created \(directory.path)")
        print("next: cd \(directory.path) && swift build && swift test")
    }

    /// The source tree a binary in `<tree>/.build/<config>/plexus` (or its arch folder) was built from.
    static func sourceTree(of executable: URL) throws -> URL {
        var candidate = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            candidate = candidate.deletingLastPathComponent()
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("SDK/CPlexusABI/include/plexus_abi.h").path) {
                return candidate
            }
        }
        throw CommandFailure("cannot find the Plexus source tree next to \(executable.path); pass --plexus-path")
    }
}

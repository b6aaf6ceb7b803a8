import ArgumentParser
import Foundation
import PlexusRuntime

struct PluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin",
        abstract: "Work with plugin files and packages.",
        subcommands: [Inspect.self, New.self, Release.self]
    )
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read a plugin's descriptor and judge compatibility without starting it.")

    @Argument(help: "The plugin's .so file (or a native plugin's .native.toml manifest).")
    var file: String
    @Flag(help: .hidden)
    var inProcess = false

    func run() throws {
        try CommandFailure.requireFile(file, option: "the plugin file to inspect")
        guard inProcess else {
            // The file is loaded in a throw-away child: one that crashes the loader kills only the child.
            let url = URL(fileURLWithPath: file)
            guard let (outcome, output) = PluginCheckProcess.runWithOutput([url])[url] else { throw ExitCode(1) }
            switch outcome {
            case .loadable, .refused:
                print(output)
                if case .refused = outcome { throw ExitCode(1) }
            case .crashed, .timedOut, .notChecked:
                if !output.isEmpty { print(output) }
                print("not loadable: \(url.lastPathComponent): \(outcome.summary)")
                throw ExitCode(1)
            }
            return
        }
        let report = PluginInspector.inspect(URL(fileURLWithPath: file))
        if let manifest = report.manifest {
            let dependencies = manifest.dependencies.map { "\($0.name) \($0.range)\($0.required ? "" : " (optional)")" }
            print(Table.render(header: ["FIELD", "VALUE"], rows: [
                ["name", manifest.name],
                ["version", manifest.version],
                ["description", manifest.description],
                ["abi", "\(manifest.abiMajor).\(manifest.abiMinor)"],
                ["sdk", manifest.sdkVersion],
                ["toolchain", manifest.toolchain],
                ["dependencies", dependencies.isEmpty ? "-" : dependencies.joined(separator: ", ")],
            ]))
        }
        if !report.functions.isEmpty {
            print(Table.render(header: ["FUNCTION", "ROUTE", "SERVICE"],
                               rows: report.functions.map { [$0.signature, $0.route ?? "-", $0.service ?? "-"] }))
        }
        print(report.verdict)
        if !report.compatible { throw ExitCode(1) }
    }
}

import Foundation
@testable import PlexusRuntime
import XCTest

/// Builds native manifests in a scratch directory and calls their functions directly (no runtime).
enum NativeTestSupport {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The C fixture library of Tests/Fixtures/CPlugins/native.c, compiled once per test process.
    static func fixtureLibrary() throws -> String { try fixtureOnce.get() }

    private static let fixtureOnce = Result<String, Error> {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-native-fixture-\(getpid()).so")
        let status = run("/usr/bin/cc", ["-std=c11", "-Wall", "-Werror", "-shared", "-fPIC",
                                          root.appendingPathComponent("Tests/Fixtures/CPlugins/native.c").path, "-lm", "-o", output.path]).status
        guard status == 0 else { throw NativeTestError("compiling native.c failed") }
        return output.path
    }

    /// Writes `text` as `<name>.native.toml` in a fresh directory and returns its URL.
    static func manifest(_ text: String, name: String = "fixture") throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-native-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("\(name).native.toml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Binds `text`; throws the loader's diagnosis.
    static func bind(_ text: String) throws -> NativeBinding {
        let file = try manifest(text)
        return try NativeBinding.bind(NativeManifest(text: String(contentsOf: file, encoding: .utf8), file: file.lastPathComponent), file: file)
    }

    /// The one-line diagnosis `text` fails with (checked as the runtime loads it), or nil when it loads.
    static func diagnosis(_ text: String) throws -> String? {
        do {
            _ = try NativePlugin.loadWithBinding(try manifest(text))
            return nil
        } catch let error as PluginLoadError {
            return error.message
        }
    }

    /// Calls `symbol` with the JSON object `json`; returns the reply parsed, or the problem.
    static func call(_ binding: NativeBinding, _ symbol: String, _ json: String, raw: [UInt8]? = nil) throws -> Result<[String: Any], NativeCallProblem> {
        let function = try XCTUnwrap(binding.functions.first { $0.symbol == symbol })
        do {
            let (arguments, decodedRaw) = try NativeRequestDecoding.arguments(body: Array(json.utf8), isJSON: raw == nil, query: "", for: function)
            let reply = try function.invoke(arguments: arguments, raw: raw ?? decodedRaw)
            return .success(try XCTUnwrap(JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any], reply))
        } catch let problem as NativeCallProblem {
            return .failure(problem)
        }
    }

    /// Runs a program; its exit status and standard output.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], input: Data? = nil) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), stdin = Pipe()
        process.standardOutput = output
        if input != nil { process.standardInput = stdin }
        do { try process.run() } catch { return (-1, "") }
        if let input {
            stdin.fileHandleForWriting.write(input)
            try? stdin.fileHandleForWriting.close()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A Python expression evaluated with zlib, base64 and math imported (computed apart from the runtime).
    static func python(_ expression: String) -> String {
        run("/usr/bin/python3", ["-c", "import zlib, base64, math, sys; print(\(expression))"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

struct NativeTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

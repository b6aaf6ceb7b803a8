import ArgumentParser
import Foundation

/// A command that was used correctly but could not do its work (a file is missing, a database cannot be
/// read, an instance does not answer). ArgumentParser prints it as `Error: <description>` without the usage
/// banner and exits with status 1; ``ValidationError`` (usage banner, status 64) stays for misused arguments.
struct CommandFailure: Error, CustomStringConvertible {
    /// What went wrong, where, and what to do about it.
    let description: String

    /// Creates a failure with its message.
    init(_ description: String) { self.description = description }

    /// "no such file" for a path that does not exist, naming the option that gave it.
    static func noSuchFile(_ path: String, option: String) -> CommandFailure {
        CommandFailure("no such file: \(path) (\(option))")
    }

    /// Throws ``noSuchFile(_:option:)`` unless something exists at `path`.
    static func requireFile(_ path: String, option: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw noSuchFile(path, option: option) }
    }
}

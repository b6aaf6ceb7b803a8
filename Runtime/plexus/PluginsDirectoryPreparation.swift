import Foundation
import Logging
import PlexusRuntime

/// What `serve` does about a plugins directory that does not exist.
///
/// The built-in default (`./plugins.d`, when neither `--plugins` nor the config's `[plugins] dir` names
/// one) is created empty, so `plexus serve` with no arguments starts in an empty directory and serves with
/// no plugins; a supervisor watching the directory loads plugins dropped in later. A directory the operator
/// named is not created: a typo must not turn into an empty, silently plugin-less server.
enum PluginsDirectoryPreparation {
    /// Creates the default plugins directory if it is missing; throws "no such file" for a missing named one.
    static func prepare(_ settings: RuntimeConfig, logger: Logger) throws {
        let directory = settings.pluginsDirectory
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw CommandFailure("the plugins directory \(directory.path) is a file, not a directory (--plugins or [plugins] dir)")
            }
            return
        }
        guard directory == RuntimeConfig().pluginsDirectory else {
            throw CommandFailure.noSuchFile(directory.path, option: "the plugins directory from --plugins or [plugins] dir; create it, or leave both out to use ./plugins.d")
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure("cannot create the plugins directory \(directory.path): \(error.localizedDescription)")
        }
        logger.notice("created the empty plugins directory \(directory.path): serving with no plugins until some are put there")
    }
}

import Foundation

/// A plugin's own settings file, `plugins.d/<plugin name>.toml`, as the runtime reads it when it
/// starts the plugin.
public enum PluginConfigFile {
    /// Where the settings of `plugin` live in `directory`.
    public static func url(for plugin: String, in directory: URL) -> URL {
        directory.appendingPathComponent("\(plugin).toml")
    }

    /// Why the settings file of `plugin` cannot be read, nil when it can (or there is none).
    public static func problem(for plugin: String, in directory: URL) -> String? {
        let file = url(for: plugin, in: directory)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        do {
            _ = try TOMLFile.flatten(contentsOf: file)
            return nil
        } catch {
            return "\(error)"
        }
    }
}

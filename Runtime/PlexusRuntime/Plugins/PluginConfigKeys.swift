import Foundation

/// The keys a plugin declares for its config file (ABI 1.3), and the check that refuses a file
/// holding any other, as the runtime's own config refuses unknown keys.
struct PluginConfigKeys {
    /// Exact keys, and prefixes (from `prefix.*` entries) that admit everything under them.
    private let exact: Set<String>
    private let prefixes: [String]
    /// The declaration as written, for messages.
    let declared: [String]

    init(_ declared: [String]) {
        self.declared = declared
        exact = Set(declared.filter { !$0.hasSuffix(".*") })
        prefixes = declared.filter { $0.hasSuffix(".*") }.map { String($0.dropLast()) }
    }

    /// Whether `key` (dotted) is declared.
    func admits(_ key: String) -> Bool {
        exact.contains(key) || prefixes.contains { key.hasPrefix($0) && key.count > $0.count }
    }

    /// Throws, naming every key of `values` that is not declared, the file, and what is accepted.
    func check(_ values: [String: String], plugin: String, file: String) throws {
        let unknown = values.keys.filter { !admits($0) }.sorted()
        guard !unknown.isEmpty else { return }
        let accepted = declared.isEmpty ? "it takes no settings" : "it accepts \(declared.sorted().joined(separator: ", "))"
        throw PluginLoadError(.initFailed, "plugin '\(plugin)': \(file): unknown config key\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")); \(accepted); fix: remove or correct \(unknown.count == 1 ? "it" : "them")")
    }
}

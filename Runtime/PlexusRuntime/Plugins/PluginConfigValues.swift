import Foundation

/// A plugin's configuration, flattened to dotted keys with text values, plus C copies of the
/// values that stay valid for the plugin's lifetime (the ABI returns `const char *`).
struct PluginConfigValues {
    private(set) var values: [String: String] = [:]
    private var cStrings: [String: UnsafeMutablePointer<CChar>] = [:]

    init(_ values: [String: String] = [:]) {
        self.values = values
    }

    /// The value at `key` as a C string owned by this table, or `nil`.
    mutating func cString(_ key: String) -> UnsafePointer<CChar>? {
        if let existing = cStrings[key] { return UnsafePointer(existing) }
        guard let value = values[key] else { return nil }
        let copy = strdup(value)!
        cStrings[key] = copy
        return UnsafePointer(copy)
    }
}

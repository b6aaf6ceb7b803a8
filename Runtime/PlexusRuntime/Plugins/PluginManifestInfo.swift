import CPlexusABI

/// The runtime's checked, Swift-side copy of a plugin descriptor's manifest.
public struct PluginManifestInfo: Sendable, Codable {
    /// A topic the plugin declares it publishes (ABI 1.1 descriptors).
    public struct PublishedTopic: Sendable, Codable {
        public let topic: String
        public let schemaVersion: Int
        public let description: String
    }

    public struct Dependency: Sendable, Codable {
        public let name: String
        public let range: String
        public let required: Bool
    }

    public let name: String
    public let version: String
    public let description: String
    public let sdkVersion: String
    public let toolchain: String
    public let abiMajor: UInt32
    public let abiMinor: UInt32
    public let dependencies: [Dependency]
    public let publishes: [PublishedTopic]
    /// The keys the plugin's config file may hold (ABI 1.3 descriptors that declare them); nil: any key.
    public let configKeys: [String]?

    /// Copies and validates the manifest fields of `raw` (from file `file`, for messages).
    init(_ raw: plexus_plugin, file: String) throws {
        func text(_ pointer: UnsafePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }
        name = text(raw.name)
        version = text(raw.version)
        description = text(raw.description)
        sdkVersion = text(raw.sdk_version)
        toolchain = text(raw.toolchain)
        abiMajor = raw.abi_major
        abiMinor = raw.abi_minor
        guard Self.isValidName(name) else {
            throw PluginLoadError(.invalidManifest, "\(file): plugin name '\(name)' is not valid (expected lower-case letters, digits and '-', starting with a letter, at most 64 characters); fix: rename it in the manifest")
        }
        guard SemanticVersion(version) != nil else {
            throw PluginLoadError(.invalidManifest, "\(file): plugin '\(name)' has version '\(version)', expected a semantic version like 1.2.3; fix: correct the manifest")
        }
        var dependencies: [Dependency] = []
        for index in 0..<Int(raw.dependency_count) {
            guard let entry = raw.dependencies?[index] else { break }
            let dependency = Dependency(name: text(entry.name), range: entry.version_range.map { String(cString: $0) } ?? "*", required: entry.required != 0)
            guard VersionRange(dependency.range) != nil else {
                throw PluginLoadError(.invalidManifest, "\(file): plugin '\(name)' depends on '\(dependency.name)' with range '\(dependency.range)', which is not a version range (expected e.g. '^1.2' or '>=1.0.0 <2.0.0')")
            }
            dependencies.append(dependency)
        }
        self.dependencies = dependencies
        var publishes: [PublishedTopic] = []
        // Read only what the plugin's descriptor is large enough to hold (ABI 1.0 has no topics).
        if Int(raw.struct_size) >= MemoryLayout<plexus_plugin>.offset(of: \plexus_plugin.publish_count)! + 4, let list = raw.publishes {
            for index in 0..<Int(min(raw.publish_count, 1024)) where list[index].topic != nil {
                publishes.append(PublishedTopic(topic: String(cString: list[index].topic), schemaVersion: Int(list[index].schema_version),
                                                description: list[index].description.map { String(cString: $0) } ?? ""))
            }
        }
        self.publishes = publishes
        // ABI 1.3: read only from a descriptor that says it is 1.3 or newer and is large enough.
        if raw.abi_minor >= 3, Int(raw.struct_size) >= MemoryLayout<plexus_plugin>.offset(of: \plexus_plugin.config_keys_declared)! + 4,
           raw.config_keys_declared != 0 {
            guard raw.config_key_count <= 1024, raw.config_key_count == 0 || raw.config_keys != nil else {
                throw PluginLoadError(.invalidManifest, "\(file): plugin '\(name)' declares \(raw.config_key_count) config keys \(raw.config_keys == nil ? "but no list" : "(more than 1024)"); fix: correct the descriptor")
            }
            configKeys = (0..<Int(raw.config_key_count)).compactMap { raw.config_keys![$0].map { String(cString: $0) } }
        } else {
            configKeys = nil
        }
    }

    /// Whether `name` is a valid plugin name: lower-case letters, digits and '-', starting with a
    /// letter, at most 64 characters.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first), name.count <= 64 else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}

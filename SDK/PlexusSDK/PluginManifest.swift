/// What a plugin declares about itself: identity, compatibility and dependencies.
///
/// The runtime reads it (through the C descriptor) before it calls any plugin code, so it
/// can refuse duplicates, order start-up by dependencies and report mismatches.
public struct PluginManifest: Sendable {
    /// Unique name: lower-case letters, digits and `-`, starting with a letter.
    public var name: String
    /// The plugin's semantic version (`MAJOR.MINOR.PATCH`).
    public var version: String
    /// One line saying what the plugin does.
    public var description: String
    /// Other plugins this one needs.
    public var dependencies: [PluginDependency]
    /// Topics this plugin publishes, for the runtime's event catalogue.
    public var publishes: [TopicDeclaration]
    /// Every key `plugins.d/<name>.toml` may hold (dotted for nested tables; `"prefix.*"` admits
    /// everything under `prefix.`), or nil to accept any key. With a list, the runtime fails the
    /// plugin before `init(context:)` when the file holds another key, naming it. `log_level`
    /// (read by the SDK) is always accepted.
    public var configKeys: [String]?

    /// The config key the SDK reads for the plugin logger's level.
    static let logLevelKey = "log_level"

    /// Creates a manifest.
    public init(name: String, version: String, description: String = "", dependencies: [PluginDependency] = [],
                publishes: [TopicDeclaration] = [], configKeys: [String]? = nil) {
        self.name = name
        self.version = version
        self.description = description
        self.dependencies = dependencies
        self.publishes = publishes
        self.configKeys = configKeys
    }
}

/// A dependency on another plugin.
public struct PluginDependency: Sendable {
    /// The other plugin's name.
    public var name: String
    /// A semver range: `^1.2`, `~1.2.3`, `>=1.0.0 <2.0.0`, `1.2.3`, or `*`.
    public var versionRange: String
    /// `true`: this plugin fails without it. `false`: start after it when present.
    public var required: Bool

    /// Creates a dependency.
    public init(_ name: String, _ versionRange: String = "*", required: Bool = true) {
        self.name = name
        self.versionRange = versionRange
        self.required = required
    }
}

/// The version of this SDK, recorded in every plugin's descriptor.
public let plexusSDKVersion = "1.0.0"

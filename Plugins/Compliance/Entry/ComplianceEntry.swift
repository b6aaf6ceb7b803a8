import PlexusCompliance
import PlexusSDK

/// The library's one exported symbol, the C entry point the runtime looks up in `libPlexusCompliance.so`. It lives
/// in a target of its own so tests can link the plugin type in-process (see `PlexusTesting.TestHost`).
@_cdecl("plexus_plugin_entry_v1")
public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: CompliancePlugin.self, host: host)
}

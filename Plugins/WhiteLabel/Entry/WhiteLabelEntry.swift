import PlexusSDK
import PlexusWhiteLabel

/// The library's one exported symbol: the runtime's entry into the white-label plugin. It lives in
/// a target of its own so tests can link the plugin type in-process.
@_cdecl("plexus_plugin_entry_v1")
public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: WhiteLabelPlugin.self, host: host)
}

import PlexusFixtureCancel
import PlexusSDK

/// The fixture library's exported entry symbol, apart from the plugin type so tests can link that in-process.
@_cdecl("plexus_plugin_entry_v1")
public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: CancelPlugin.self, host: host)
}

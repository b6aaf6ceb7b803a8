import PlexusSDK
import PlexusTimetable

/// The C entry point the runtime looks up in `libPlexusTimetable.so`.
@_cdecl("plexus_plugin_entry_v1")
public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: TimetablePlugin.self, host: host)
}

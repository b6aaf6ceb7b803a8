import PlexusSDK

/// Placeholder entry until the routes land; replaced by the timetable plugin.
@PluginActor
final class TimetablePlugin: Plugin {
    static let manifest = PluginManifest(name: "timetable", version: "0.1.0", description: "Timetable solver")
    init(context: PluginContext) throws {}
}

@_cdecl("plexus_plugin_entry_v1")
public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: TimetablePlugin.self, host: host)
}

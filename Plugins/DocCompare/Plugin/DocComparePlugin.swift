import PlexusSDK

/// Placeholder entry until the routes land; replaced by the document comparison plugin.
@PluginActor
final class DocComparePlugin: Plugin {
    static let manifest = PluginManifest(name: "doccompare", version: "0.1.0", description: "Document comparison")
    init(context: PluginContext) throws {}
}

@_cdecl("plexus_plugin_entry_v1")
public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: DocComparePlugin.self, host: host)
}

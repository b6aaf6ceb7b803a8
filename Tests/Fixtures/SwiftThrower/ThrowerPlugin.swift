import PlexusSDK

/// A deliberately broken fixture: its `start()` throws, so the runtime must mark it failed
/// with the error's text and keep serving the other plugins.
@PluginActor
final class ThrowerPlugin: Plugin {
    static let manifest = PluginManifest(name: "thrower", version: "0.1.0", description: "fixture: start throws")

    init(context: PluginContext) throws {
        try context.routes.get("/api/v1/thrower") { _ in .text("must never be served\n") }
    }

    func start() async throws {
        throw ThrowerError()
    }
}

struct ThrowerError: Error, CustomStringConvertible {
    var description: String { "database credentials missing (fixture failure)" }
}

@_cdecl("plexus_plugin_entry_v1")
public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: ThrowerPlugin.self, host: host)
}

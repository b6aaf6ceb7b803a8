import CPlexusABI
import Foundation
import Logging

/// Reads a plugin file's descriptor and judges whether this runtime can load it, without
/// initialising or starting the plugin.
public enum PluginInspector {
    /// What `plexus plugin inspect` prints.
    public struct Report: Sendable {
        /// The manifest, when the descriptor could be read.
        public let manifest: PluginManifestInfo?
        /// Whether this runtime would load it.
        public let compatible: Bool
        /// One line: why it is or is not compatible.
        public let verdict: String
        /// A native plugin's functions (signature, route, service); empty for a `.so` plugin.
        public var functions: [NativeFunctionSummary] = []
    }

    /// Inspects `file`. The plugin's entry point runs (it returns the descriptor); no hook does.
    public static func inspect(_ file: URL) -> Report {
        if NativePlugin.isManifest(file) { return NativeInspection.inspect(file) }
        let loop = EventLoop()
        let logger = Logger(label: "plexus.inspect")
        let services = PluginServices(loop: loop, logger: logger, runtimeVersion: Runtime.version, routes: RouteRegistry(),
                                      events: EventRouter(loop: loop, logger: logger))
        let plugin = PluginInstance(file: file, services: services)
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-inspect-\(getpid())")
        defer { try? FileManager.default.removeItem(at: cache) }
        do {
            let image = try PluginImage.load(file, privateCopyIn: cache, host: plugin.host)
            let manifest = image.manifest
            let verdict: String
            if manifest.abiMinor > UInt32(PLEXUS_ABI_MINOR) {
                verdict = "compatible: built for ABI \(manifest.abiMajor).\(manifest.abiMinor), newer than this runtime's \(PLEXUS_ABI_MAJOR).\(PLEXUS_ABI_MINOR); host services added after \(PLEXUS_ABI_MAJOR).\(PLEXUS_ABI_MINOR) are unavailable to it"
            } else {
                verdict = "compatible: built for ABI \(manifest.abiMajor).\(manifest.abiMinor), this runtime speaks \(PLEXUS_ABI_MAJOR).\(PLEXUS_ABI_MINOR)"
            }
            return Report(manifest: manifest, compatible: true, verdict: verdict)
        } catch {
            return Report(manifest: nil, compatible: false, verdict: "not loadable: \(error)")
        }
    }
}

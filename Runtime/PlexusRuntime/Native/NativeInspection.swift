import CPlexusABI
import Foundation

/// One function of a native plugin as `plexus plugin inspect` shows it.
public struct NativeFunctionSummary: Sendable {
    /// `crc32(uint64 crc, bytes data, uint32 length) -> uint64`.
    public let signature: String
    /// `POST /api/v1/zlib/crc32`, if the function has a route.
    public let route: String?
    /// The bus service name, if it has one.
    public let service: String?
}

/// `plexus plugin inspect` of a `*.native.toml`: the manifest checked and bound exactly as the
/// runtime loads it (library loaded, symbols found, calls prepared); no function is called.
enum NativeInspection {
    static func inspect(_ file: URL) -> PluginInspector.Report {
        do {
            let (image, binding) = try NativePlugin.loadWithBinding(file)
            var report = PluginInspector.Report(
                manifest: image.manifest, compatible: true,
                verdict: "compatible: native library \(binding.libraryPath), \(binding.functions.count) function\(binding.functions.count == 1 ? "" : "s") bound through libffi for ABI \(PLEXUS_ABI_MAJOR).\(PLEXUS_ABI_MINOR)")
            report.functions = binding.functions.map {
                NativeFunctionSummary(signature: $0.signature, route: $0.declaration.route, service: $0.declaration.service)
            }
            return report
        } catch {
            return PluginInspector.Report(manifest: nil, compatible: false, verdict: "not loadable: \(error.message)")
        }
    }
}

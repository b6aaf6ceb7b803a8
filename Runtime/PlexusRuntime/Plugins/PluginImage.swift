import CPlexusABI
import CPlexusShims
import Foundation

/// A plugin shared object mapped into the process, with its checked descriptor.
///
/// The file is first copied to a private, unique path (so the operator can replace the original
/// at any time) and loaded `RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE`. It is never `dlclose`d:
/// unmapping Swift code corrupts the Swift runtime's conformance caches.
struct PluginImage {
    let file: URL
    let descriptor: UnsafePointer<plexus_plugin>
    let manifest: PluginManifestInfo

    /// The smallest descriptor a v1 plugin may return: everything up to and including `on_destroy`.
    static let minimumDescriptorSize = MemoryLayout<plexus_plugin>.offset(of: \plexus_plugin.on_destroy)! + MemoryLayout<UnsafeRawPointer>.size

    /// Loads `file` and checks its descriptor. `host` is handed to the entry point.
    static func load(_ file: URL, privateCopyIn cacheDirectory: URL, host: UnsafeMutablePointer<plexus_host>) throws -> PluginImage {
        let name = file.lastPathComponent
        // The copy is what the loader maps, so the copy is what is checked (the original may change meanwhile).
        let copy = try privateCopy(of: file, in: cacheDirectory)
        do {
            try ELFCheck.check(copy.path, displayName: name)
            try SwiftRuntimeLinkage.check(file)
        } catch {
            try? FileManager.default.removeItem(at: copy)
            throw error
        }
        guard let handle = plexus_dlopen_plugin(copy.path) else {
            let reason = String(cString: plexus_dlerror_text())
            if let symbol = reason.range(of: "undefined symbol: ").map({ String(reason[$0.upperBound...]) }) {
                throw PluginLoadError(.unresolvedSymbol, "\(name): unresolved symbol '\(symbol)' (expected every symbol to resolve against the runtime and system libraries); fix: link the library that defines it or rebuild against the Plexus SDK only")
            }
            throw PluginLoadError(.dlopenFailed, "\(name): the dynamic loader refused it: \(reason.replacingOccurrences(of: copy.path, with: name))")
        }
        guard let symbol = dlsym(handle, PLEXUS_ENTRY_SYMBOL) else {
            for major in 0...9 where major != Int(PLEXUS_ABI_MAJOR) {
                if dlsym(handle, PLEXUS_ENTRY_PREFIX + "\(major)") != nil {
                    throw PluginLoadError(.abiMajorMismatch, "\(name): built for plugin ABI \(major).x, this runtime speaks ABI \(PLEXUS_ABI_MAJOR).\(PLEXUS_ABI_MINOR); fix: rebuild the plugin against Plexus SDK \(PLEXUS_ABI_MAJOR).x")
                }
            }
            throw PluginLoadError(.noEntrySymbol, "\(name): no entry symbol '\(PLEXUS_ENTRY_SYMBOL)' (expected a Plexus plugin); fix: export it with PluginExport (Swift) or define it in C, and link with SDK/exports.map")
        }
        let entry = unsafeBitCast(symbol, to: plexus_plugin_entry_fn.self)
        guard let descriptor = entry(host) else {
            throw PluginLoadError(.entryReturnedNull, "\(name): the entry point returned no descriptor for host ABI \(PLEXUS_ABI_MAJOR).\(PLEXUS_ABI_MINOR) (the plugin refused this runtime); fix: rebuild against Plexus SDK \(PLEXUS_ABI_MAJOR).x")
        }
        let size = Int(descriptor.pointee.struct_size)
        if descriptor.pointee.abi_major != UInt32(PLEXUS_ABI_MAJOR) {
            throw PluginLoadError(.abiMajorMismatch, "\(name): built for plugin ABI \(descriptor.pointee.abi_major).\(descriptor.pointee.abi_minor), this runtime speaks ABI \(PLEXUS_ABI_MAJOR).\(PLEXUS_ABI_MINOR); fix: rebuild the plugin against Plexus SDK \(PLEXUS_ABI_MAJOR).x")
        }
        guard size >= minimumDescriptorSize else {
            throw PluginLoadError(.descriptorTooSmall, "\(name): descriptor is \(size) bytes, ABI \(PLEXUS_ABI_MAJOR).0 needs at least \(minimumDescriptorSize); fix: set struct_size = sizeof(plexus_plugin) and rebuild against the SDK header")
        }
        // Work on a zero-padded copy of exactly the bytes the plugin declared, so fields a plugin
        // built for an older minor does not have read as absent rather than past its struct.
        let padded = UnsafeMutablePointer<plexus_plugin>.allocate(capacity: 1)
        padded.initialize(to: plexus_plugin())
        UnsafeMutableRawPointer(padded).copyMemory(from: descriptor, byteCount: min(size, MemoryLayout<plexus_plugin>.size))
        try SwiftToolchainCheck.check(padded.pointee, file: copy, displayName: name)
        let manifest = try PluginManifestInfo(padded.pointee, file: name)
        return PluginImage(file: file, descriptor: UnsafePointer(padded), manifest: manifest)
    }

    private static func privateCopy(of file: URL, in directory: URL) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let copy = directory.appendingPathComponent("\(getpid())-\(UUID().uuidString.prefix(8))-\(file.lastPathComponent)")
        do {
            try FileManager.default.copyItem(at: file, to: copy)
        } catch {
            throw PluginLoadError(.unreadable, "\(file.lastPathComponent): could not copy it to \(directory.path): \(error.localizedDescription)")
        }
        return copy
    }
}

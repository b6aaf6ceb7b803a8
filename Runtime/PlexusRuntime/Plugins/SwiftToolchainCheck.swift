import CPlexusABI
import Foundation

/// Refuses a Swift plugin built by another Swift compiler than the runtime's.
///
/// Swift has no stable ABI on Linux: a plugin that links `libswiftCore.so` and was built by
/// another major.minor of the compiler finds type metadata and runtime entry points laid out
/// differently and crashes somewhere inside the Swift runtime. The SDK records its compiler in
/// the descriptor (`swift_compiler`, ABI 1.4; older SDKs wrote it as text in `toolchain`, e.g.
/// "Swift 6.3"), and the loader compares it with the compiler that built the runtime before any
/// hook runs. Plugins that do not link the Swift runtime (C, and others) are not compared.
enum SwiftToolchainCheck {
    /// The Swift compiler that built this runtime, as major * 100 + minor.
    static var runtimeCompiler: UInt32 {
        #if compiler(>=6.5)
        605
        #elseif compiler(>=6.4)
        604
        #elseif compiler(>=6.3)
        603
        #elseif compiler(>=6.2)
        602
        #elseif compiler(>=6.1)
        601
        #else
        600
        #endif
    }

    /// `603` as "Swift 6.3".
    static func name(_ compiler: UInt32) -> String { "Swift \(compiler / 100).\(compiler % 100)" }

    /// The compiler a descriptor declares: the ABI 1.4 field, else the "Swift X.Y" text of
    /// `toolchain`; nil when it declares none.
    static func declaredCompiler(_ raw: plexus_plugin) -> UInt32? {
        if raw.abi_minor >= 4, Int(raw.struct_size) >= MemoryLayout<plexus_plugin>.offset(of: \plexus_plugin.swift_compiler)! + 4,
           raw.swift_compiler != 0 {
            return raw.swift_compiler
        }
        guard let text = raw.toolchain.map({ String(cString: $0) }), text.hasPrefix("Swift ") else { return nil }
        let parts = text.dropFirst(6).prefix { $0.isNumber || $0 == "." }.split(separator: ".")
        guard parts.count >= 2, let major = UInt32(parts[0]), let minor = UInt32(parts[1]), major < 100, minor < 100 else { return nil }
        return major * 100 + minor
    }

    /// Throws when `file` links the Swift runtime and its descriptor names another compiler.
    /// A Swift plugin that declares no compiler at all is refused too: it cannot be vouched for.
    static func check(_ raw: plexus_plugin, file: URL, displayName: String, runtime: UInt32 = SwiftToolchainCheck.runtimeCompiler) throws {
        guard let data = try? Data(contentsOf: file, options: .mappedIfSafe),
              let needed = SwiftRuntimeLinkage.neededLibraries(Array(data)),
              needed.contains(where: { $0.hasPrefix("libswiftCore.so") }) else { return }
        guard let declared = declaredCompiler(raw) else {
            throw PluginLoadError(.swiftToolchainMismatch, "\(displayName): links the Swift runtime but its descriptor names no Swift compiler (toolchain '\(raw.toolchain.map { String(cString: $0) } ?? "")'), and this runtime was built by \(name(runtime)); fix: build the plugin with the Plexus Swift SDK and \(name(runtime))")
        }
        guard declared == runtime else {
            throw PluginLoadError(.swiftToolchainMismatch, "\(displayName): built by \(name(declared)), this runtime was built by \(name(runtime)); Swift has no stable ABI on Linux, so a plugin must be built by the runtime's Swift (major.minor); fix: rebuild the plugin with \(name(runtime)), or serve it with a plexus built by \(name(declared))")
        }
    }
}

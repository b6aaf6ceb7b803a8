import CPlexusABI
import Foundation

/// A native plugin: a C library served through libffi from `plugins.d/<name>.native.toml`.
///
/// It is loaded as any plugin is: ``load(_:host:)`` returns a ``PluginImage`` whose descriptor the
/// runtime synthesizes from the manifest, so lifecycle, diagnoses, quarantine, gateway access
/// rules, OpenAPI and metrics apply unchanged. Its `on_init` registers each function's route and
/// service through the host vtable, like any plugin's.
final class NativePlugin {
    /// The file suffix of native manifests in the plugins directory.
    static let manifestSuffix = ".native.toml"

    let binding: NativeBinding
    /// Route and service contexts, kept alive as long as the plugin (forever: images are never unloaded).
    private var handlers: [NativeHandler] = []

    private init(binding: NativeBinding) { self.binding = binding }

    /// Whether `file` is a native manifest.
    static func isManifest(_ file: URL) -> Bool {
        let name = file.lastPathComponent
        return name.hasSuffix(manifestSuffix) && !name.hasPrefix(".")
    }

    /// Reads and checks the manifest, loads the library, prepares every call, and builds the descriptor.
    static func load(_ file: URL, host: UnsafeMutablePointer<plexus_host>) throws(PluginLoadError) -> PluginImage {
        let (image, _) = try loadWithBinding(file)
        return image
    }

    /// As ``load(_:host:)``, also returning the checked binding (for `plexus plugin inspect`).
    static func loadWithBinding(_ file: URL) throws(PluginLoadError) -> (PluginImage, NativeBinding) {
        let name = file.lastPathComponent
        guard let text = UTF8File.read(file) else {
            throw PluginLoadError(.unreadable, "\(name): cannot be read as UTF-8 text; fix: check the file's permissions and encoding")
        }
        let manifest = try NativeManifest(text: text, file: name)
        let binding = try NativeBinding.bind(manifest, file: file)
        let plugin = NativePlugin(binding: binding)
        let descriptor = UnsafeMutablePointer<plexus_plugin>.allocate(capacity: 1)
        descriptor.initialize(to: plexus_plugin())
        descriptor.pointee.struct_size = UInt32(MemoryLayout<plexus_plugin>.size)
        descriptor.pointee.abi_major = UInt32(PLEXUS_ABI_MAJOR)
        descriptor.pointee.abi_minor = UInt32(PLEXUS_ABI_MINOR)
        descriptor.pointee.name = UnsafePointer(strdup(manifest.name))
        descriptor.pointee.version = UnsafePointer(strdup(manifest.version))
        descriptor.pointee.description = UnsafePointer(strdup(manifest.description.isEmpty ? "native library \(manifest.library)" : manifest.description))
        descriptor.pointee.sdk_version = UnsafePointer(strdup("native"))
        descriptor.pointee.toolchain = UnsafePointer(strdup("native library \(binding.libraryPath) through libffi"))
        descriptor.pointee.ctx = Unmanaged.passRetained(plugin).toOpaque()
        descriptor.pointee.on_init = { ctx, host, error in
            Unmanaged<NativePlugin>.fromOpaque(ctx!).takeUnretainedValue().initialize(host: host!, error: error)
        }
        let info: PluginManifestInfo
        do {
            info = try PluginManifestInfo(descriptor.pointee, file: name)
        } catch let error as PluginLoadError {
            throw error
        } catch {
            throw PluginLoadError(.invalidManifest, "\(name): \(error)")
        }
        return (PluginImage(file: file, descriptor: UnsafePointer(descriptor), manifest: info), binding)
    }

    /// `on_init`: registers every function's route and service.
    private func initialize(host: UnsafePointer<plexus_host>, error: UnsafeMutablePointer<plexus_error>?) -> Int32 {
        for function in binding.functions {
            let handler = NativeHandler(function: function, host: host)
            handlers.append(handler)
            let context = Unmanaged.passUnretained(handler).toOpaque()
            if let route = function.declaration.route {
                let parts = route.split(separator: " ", omittingEmptySubsequences: true)
                guard parts.count == 2 else {
                    PluginHostTable.write("\(binding.manifest.name).native.toml: function '\(function.symbol)': route '\(route)' is not 'METHOD /path'; fix: write e.g. route = \"POST /api/v1/\(binding.manifest.name)/\(function.symbol)\"", to: error)
                    return Int32(PLEXUS_ERROR.rawValue)
                }
                let status = NativeRouteSpec.add(function, method: String(parts[0]), pattern: String(parts[1]), context: context, host: host, error: error)
                guard status == Int32(PLEXUS_OK.rawValue) else { return status }
            }
            if let service = function.declaration.service {
                let status = host.pointee.service_register!(host, service, { user, token, payload in
                    Unmanaged<NativeHandler>.fromOpaque(user!).takeUnretainedValue().serve(token: token, payload: payload)
                }, context, error)
                guard status == Int32(PLEXUS_OK.rawValue) else { return status }
            }
        }
        return Int32(PLEXUS_OK.rawValue)
    }
}

/// Registers one function's route through the host vtable, with the manifest's access rules,
/// timeout and schemas.
enum NativeRouteSpec {
    static func add(_ function: NativeFunction, method: String, pattern: String, context: UnsafeMutableRawPointer,
                    host: UnsafePointer<plexus_host>, error: UnsafeMutablePointer<plexus_error>?) -> Int32 {
        let declaration = function.declaration
        let summary = declaration.summary ?? "Calls \(function.signature) through libffi"
        let request = NativeSchema.request(function), response = NativeSchema.response(function)
        return method.withCString { method in
            pattern.withCString { pattern in
                summary.withCString { summary in
                    request.withCString { request in
                        response.withCString { response in
                            withOptionalCString(declaration.roles) { roles in
                                withOptionalCString(declaration.scopes) { scopes in
                                    var spec = plexus_route_spec()
                                    spec.struct_size = UInt32(MemoryLayout<plexus_route_spec>.size)
                                    spec.method = method
                                    spec.pattern = pattern
                                    spec.handler = { context, request in
                                        Unmanaged<NativeHandler>.fromOpaque(context!).takeUnretainedValue().handle(request!)
                                    }
                                    spec.route_ctx = context
                                    spec.access = declaration.access == "public" ? UInt32(PLEXUS_ACCESS_PUBLIC.rawValue) : UInt32(PLEXUS_ACCESS_AUTHENTICATED.rawValue)
                                    spec.roles = roles
                                    spec.scopes = scopes
                                    spec.summary = summary
                                    spec.request_schema = request
                                    spec.response_schema = response
                                    spec.timeout_ms = declaration.timeoutMilliseconds
                                    return host.pointee.route_add!(host, &spec, error)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static func withOptionalCString<T>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
        guard let text else { return body(nil) }
        return text.withCString { body($0) }
    }
}

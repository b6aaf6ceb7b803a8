/// Why a plugin could not be loaded, checked or started: one line naming the file, what was
/// expected, what was found, and the fix.
public struct PluginLoadError: Error, CustomStringConvertible, Sendable {
    /// The kinds of failure, for tests and metrics.
    public enum Kind: String, Sendable {
        case notELF, unreadable, unresolvedSymbol, dlopenFailed, noEntrySymbol, abiMajorMismatch, entryReturnedNull
        /// An ELF file whose headers, tables or segments do not lie inside it (truncated or corrupt).
        case malformedELF
        /// An ELF object of another class, byte order or machine.
        case wrongArchitecture
        /// Loading it crashed a throw-away check process (the dynamic loader or its entry point).
        case crashesLoader
        case descriptorTooSmall, invalidManifest, duplicateName, missingDependency, dependencyVersion, dependencyCycle
        case dependencyFailed, initFailed, startFailed, startTimeout, routeCollision, invalidRoute
        /// Blamed for crashing the worker too often (`plexus serve --supervise`).
        case quarantined
        /// A Swift plugin offered to a host with the Swift standard library linked statically.
        case swiftRuntimeConflict
        /// A Swift plugin built by another Swift compiler (major.minor) than the runtime's.
        case swiftToolchainMismatch
    }

    public let kind: Kind
    /// The one-line diagnosis.
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

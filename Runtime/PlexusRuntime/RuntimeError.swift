/// Errors that stop the runtime from starting, each with a message for the operator.
public struct RuntimeError: Error, CustomStringConvertible {
    private enum Code { case config, listen, plugins, dataDirectory }
    private let code: Code
    /// What went wrong and where.
    public let description: String

    /// The configuration is unreadable or invalid.
    public static func config(_ message: String) -> RuntimeError { RuntimeError(code: .config, description: message) }
    /// The listening socket could not be set up.
    public static func listen(_ message: String) -> RuntimeError { RuntimeError(code: .listen, description: message) }
    /// The plugins directory could not be read.
    public static func plugins(_ message: String) -> RuntimeError { RuntimeError(code: .plugins, description: message) }
    /// The data directory is unusable or already in use by another instance.
    public static func dataDirectory(_ message: String) -> RuntimeError { RuntimeError(code: .dataDirectory, description: message) }
}

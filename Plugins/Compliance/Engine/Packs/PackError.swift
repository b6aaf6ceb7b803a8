/// Why a pack was refused. Every case names where the problem is.
public struct PackError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of problem.
    public enum Kind: String, Sendable { case syntax, invalid, pattern, failingTest }
    public var kind: Kind
    /// The field or test case at fault (`rules[2].pattern`, `tests["emails"]`).
    public var location: String
    public var reason: String

    public var description: String { "\(location): \(reason)" }

    static func syntax(_ reason: String) -> PackError { PackError(kind: .syntax, location: "pack", reason: reason) }
    static func invalid(_ location: String, _ reason: String) -> PackError { PackError(kind: .invalid, location: location, reason: reason) }
}

/// Typed access to path parameters and query values:
///
/// ```swift
/// let id = try request.parameters.require("id", as: Int.self)
/// let limit = try request.query.require("limit", as: Int.self)
/// ```
///
/// A value that is absent or does not convert throws ``HTTPError`` 400, naming the parameter and
/// the expected type, so the handler's code reads only valid values.
extension Dictionary where Key == String, Value == String {
    /// The value of `name` converted to `type`.
    /// - Throws: ``HTTPError`` 400 "parameter 'id' must be Int, got 'abc'" (or "... is missing").
    public func require<T: LosslessStringConvertible>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let text = self[name] else {
            throw HTTPError.badRequest("parameter '\(name)' is missing (expected \(T.self))")
        }
        guard let value = T(text) else {
            let shown = text.count > 64 ? String(text.prefix(64)) + "…" : text
            throw HTTPError.badRequest("parameter '\(name)' must be \(T.self), got '\(shown)'")
        }
        return value
    }
}

import Foundation

/// Turns a request body (JSON object or raw bytes) and query string into the arguments of a native call.
enum NativeRequestDecoding {
    /// The arguments by name, and the raw bytes for the function's one `bytes` parameter when the
    /// body is not JSON. `isJSON`: the body is declared (or, for a service payload, looks like) a JSON object.
    static func arguments(body: [UInt8], isJSON: Bool, query: String, for function: NativeFunction) throws(NativeCallProblem) -> ([String: NativeValue], [UInt8]?) {
        var arguments: [String: NativeValue] = [:]
        var raw: [UInt8]?
        if isJSON || function.rawBodyParameter == nil {
            if !body.isEmpty {
                do {
                    arguments = try JSONDecoder().decode([String: NativeValue].self, from: Data(body))
                } catch {
                    throw .badRequest("the body is not a JSON object of parameters for \(function.symbol)\(function.rawBodyParameter == nil ? "" : " (send Content-Type: application/json, or another type for the raw bytes of '\(function.parameters[function.rawBodyParameter!].name)')")")
                }
            }
        } else {
            raw = body
        }
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decode(parts[0]), value = parts.count > 1 ? decode(parts[1]) : ""
            guard arguments[key] == nil else { continue }
            guard let parameter = function.parameters.first(where: { $0.name == key && $0.isInput }) else {
                throw .badRequest("unknown query parameter '\(key)' for \(function.symbol)")
            }
            if case .string = parameter.type { arguments[key] = .string(value) } else { arguments[key] = NativeValue(queryText: value) }
        }
        return (arguments, raw)
    }

    /// Whether a service payload is a JSON object (else, for a function with one bytes parameter, its raw bytes).
    static func looksLikeJSONObject(_ payload: [UInt8]) -> Bool {
        payload.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 } == UInt8(ascii: "{")
    }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

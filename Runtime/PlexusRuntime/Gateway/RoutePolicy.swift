import CPlexusABI
import Foundation

/// What a route declared at registration (ABI 1.2): who may call it, and how it is described in
/// `/openapi.json`. A route registered through ABI 1.1 declares nothing: authenticated callers.
struct RoutePolicy {
    /// Anyone may call (credentials, when sent, are still verified).
    var isPublic = false
    /// The caller must carry a tenant; a `:tenant` path parameter must equal it.
    var tenantRequired = false
    /// The caller needs one of these roles (empty: none needed).
    var roles: [String] = []
    /// The caller needs all of these scopes.
    var scopes: [String] = []
    /// The runtime answers 504 after this long (0: the gateway's default).
    var timeoutMilliseconds: UInt64 = 0
    var summary: String?
    /// JSON Schema texts, checked to be JSON objects at registration.
    var requestSchema: String?
    var responseSchema: String?
    var responseStatus = 200

    init() {}

    /// Reads the ABI 1.2 fields of a zero-padded spec copy, or says why they are unusable.
    init(_ spec: plexus_route_spec) throws(RoutePolicyError) {
        switch spec.access {
        case UInt32(PLEXUS_ACCESS_AUTHENTICATED.rawValue): isPublic = false
        case UInt32(PLEXUS_ACCESS_PUBLIC.rawValue): isPublic = true
        default: throw RoutePolicyError("access \(spec.access) is not PLEXUS_ACCESS_AUTHENTICATED (0) or PLEXUS_ACCESS_PUBLIC (1)")
        }
        tenantRequired = spec.tenant_required != 0
        // ABI 1.6: arrays, when given, replace the separated texts (a shorter spec's copy has them NULL).
        if let list = spec.role_list { roles = try Self.array(list, spec.role_count, "role_list") } else { roles = Self.list(spec.roles, separator: ",") }
        if let list = spec.scope_list { scopes = try Self.array(list, spec.scope_count, "scope_list") } else { scopes = Self.list(spec.scopes, separator: " ") }
        for name in roles + scopes where !name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.:/".contains($0) }) {
            throw RoutePolicyError("role or scope '\(name)' may only hold letters, digits and - _ . : /")
        }
        timeoutMilliseconds = spec.timeout_ms
        summary = spec.summary.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        requestSchema = try Self.schema(spec.request_schema, "request_schema")
        responseSchema = try Self.schema(spec.response_schema, "response_schema")
        if spec.response_status != 0 {
            guard (200...299).contains(spec.response_status) else {
                throw RoutePolicyError("response_status \(spec.response_status) is not a 2xx status")
            }
            responseStatus = Int(spec.response_status)
        }
    }

    private static func list(_ text: UnsafePointer<CChar>?, separator: Character) -> [String] {
        guard let text else { return [] }
        return String(cString: text).split(separator: separator).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The names of an ABI 1.6 array: `count` non-NULL names of 1 to 128 bytes, at most 64 of them.
    private static func array(_ list: UnsafePointer<UnsafePointer<CChar>?>, _ count: UInt32, _ field: String) throws(RoutePolicyError) -> [String] {
        guard count <= 64 else { throw RoutePolicyError("\(field) has \(count) names, at most 64 are allowed") }
        var names: [String] = []
        for index in 0..<Int(count) {
            guard let name = list[index] else { throw RoutePolicyError("\(field)[\(index)] is NULL") }
            let text = String(cString: name)
            guard (1...128).contains(text.utf8.count) else {
                throw RoutePolicyError("\(field)[\(index)] is \(text.utf8.count) bytes long; a name has 1 to 128")
            }
            if !names.contains(text) { names.append(text) }
        }
        return names
    }

    private static func schema(_ text: UnsafePointer<CChar>?, _ field: String) throws(RoutePolicyError) -> String? {
        guard let text else { return nil }
        let json = String(cString: text)
        if json.isEmpty { return nil }
        guard (try? JSONSerialization.jsonObject(with: Data(json.utf8))) is [String: Any] else {
            throw RoutePolicyError("\(field) is not a JSON object (a JSON Schema)")
        }
        return json
    }
}

/// Why a route's declared policy was refused.
struct RoutePolicyError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

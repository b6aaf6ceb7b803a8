/// Which plugin routes still receive the credentials the gateway consumed.
///
/// The gateway verifies the caller's `Authorization` and `X-API-Key` headers itself and hands a
/// plugin the verified caller (subject, tenant, roles, scopes), so by default both headers are
/// left out of the request a plugin route receives: neither the admin key the operator console
/// sends nor any caller's token is handed to the plugin (in-process plugins are trusted code
/// sharing the runtime's address space; this is not a sandbox). The gateway sets no cookie and
/// reads none, so `Cookie` passes through unchanged, and so does the query string.
///
/// `[auth] forward_credentials` names the plugins and routes that must still see them (a plugin
/// that calls another service with the caller's own token), in the form rate limits use:
/// `"plugin:NAME"`, `"route:METHOD /pattern"` (the pattern as registered), comma-separated, or
/// `"*"` for every route. Each route's answer is kept in a table indexed by its immutable id.
/// The operator's admin key (``Caller/isAdminKey``) is never forwarded, even to a named route
/// (``PluginResponder`` checks the caller).
/// Loop thread only.
struct CredentialForwarding {
    /// One entry of `forward_credentials`.
    enum Selector: Sendable, Equatable {
        case all
        case plugin(String)
        case route(method: String, pattern: String)
    }

    /// The request header names the gateway consumes, lower-case.
    static let consumedHeaders: [StaticString] = ["authorization", "x-api-key"]

    let selectors: [Selector]
    /// By route id: 0 not decided yet, 1 credentials left out, 2 forwarded.
    private var decided: [UInt8] = []

    init(selectors: [Selector] = []) {
        self.selectors = selectors
    }

    /// Whether `route` receives the consumed credential headers.
    mutating func forwards(to route: RegisteredRoute) -> Bool {
        if selectors.isEmpty { return false }
        if route.id < decided.count, decided[route.id] != 0 { return decided[route.id] == 2 }
        let forwards = selectors.contains { Self.matches($0, route.plugin.name, route.method, route.pattern.text) }
        if route.id >= decided.count { decided.append(contentsOf: repeatElement(0, count: route.id + 1 - decided.count)) }
        decided[route.id] = forwards ? 2 : 1
        return forwards
    }

    /// The selectors (as written in the setting) that match none of `routes`.
    func unmatched(by routes: [RegisteredRoute]) -> [String] {
        selectors.filter { selector in
            !routes.contains { Self.matches(selector, $0.plugin.name, $0.method, $0.pattern.text) }
        }.map { selector in
            switch selector {
            case .all: return "*"
            case .plugin(let name): return "plugin:" + name
            case let .route(method, pattern): return "route:\(method) \(pattern)"
            }
        }
    }

    static func matches(_ selector: Selector, _ plugin: String, _ method: String, _ pattern: String) -> Bool {
        switch selector {
        case .all: return true
        case .plugin(let name): return name == plugin
        case let .route(wantedMethod, wantedPattern): return wantedMethod == method && wantedPattern == pattern
        }
    }

    /// Whether a request header named `name` (any case) is a credential the gateway consumed.
    static func isConsumed(_ name: UnsafeRawBufferPointer) -> Bool {
        // The literals of ``consumedHeaders``, compared without loading the array (a static's
        // load goes through swift_once); `CredentialForwardingTests` checks the two agree.
        ASCIICase.equal(name, "authorization") || ASCIICase.equal(name, "x-api-key")
    }

    /// Reads `forward_credentials`: `*`, or a comma-separated list of `plugin:NAME` and
    /// `route:METHOD /pattern`; the error names the entry that is neither.
    static func parse(_ text: String) throws(CredentialForwardingError) -> [Selector] {
        var selectors: [Selector] = []
        for part in text.split(separator: ",") {
            let entry = part.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            if entry == "*" {
                selectors.append(.all)
            } else if entry.hasPrefix("plugin:"),
                      case let name = entry.dropFirst(7).trimmingCharacters(in: .whitespaces), !name.isEmpty {
                selectors.append(.plugin(name))
            } else if entry.hasPrefix("route:") {
                let rest = entry.dropFirst(6)
                guard let space = rest.firstIndex(of: " "), rest.startIndex != space else {
                    throw CredentialForwardingError(entry)
                }
                let pattern = rest[rest.index(after: space)...].trimmingCharacters(in: .whitespaces)
                guard pattern.hasPrefix("/") else { throw CredentialForwardingError(entry) }
                selectors.append(.route(method: rest[..<space].uppercased(), pattern: pattern))
            } else {
                throw CredentialForwardingError(entry)
            }
        }
        return selectors
    }
}

/// An entry of `[auth] forward_credentials` that is not `*`, `plugin:NAME` or `route:METHOD /pattern`.
struct CredentialForwardingError: Error, CustomStringConvertible {
    let entry: String
    init(_ entry: String) { self.entry = entry }
    var description: String {
        "'\(entry)' is not \"*\", \"plugin:NAME\" or \"route:METHOD /pattern\""
    }
}

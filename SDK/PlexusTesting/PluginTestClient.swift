import Foundation
import PlexusSDK

/// Who sends a test request: the identity the gateway would have verified.
public struct TestCaller: Sendable, Hashable {
    /// The subject (in-process only; a live runtime names an API key's caller itself).
    public var subject: String
    /// Roles, any of which a route may need.
    public var roles: [String]
    /// Scopes, all of which a route may need.
    public var scopes: [String]
    /// The tenant the credentials carry.
    public var tenant: String?

    /// A caller; `subject` also names the API key a live client creates for it.
    public init(_ subject: String, roles: [String] = [], scopes: [String] = [], tenant: String? = nil) {
        self.subject = subject
        self.roles = roles
        self.scopes = scopes
        self.tenant = tenant
    }
}

/// One request of a plugin test: method, target (path and query), headers, body and caller.
public struct TestRequest: Sendable {
    /// Upper-case method.
    public var method: String
    /// Path with an optional `?query`, percent-encoded as on the wire.
    public var target: String
    /// Header fields (no `Authorization`: say who calls with `caller`).
    public var headers: [(String, String)]
    /// The body.
    public var body: [UInt8]
    /// The caller, nil for an anonymous request.
    public var caller: TestCaller?

    /// A request.
    public init(_ method: HTTPMethod, _ target: String, headers: [(String, String)] = [], body: [UInt8] = [], caller: TestCaller? = nil) {
        self.method = method.rawValue
        self.target = target
        self.headers = headers
        self.body = body
        self.caller = caller
    }
}

/// Something that answers plugin test requests: a ``TestHost`` in-process (the plugin's code
/// in this process, gateway rules checked in memory) or a ``LiveTestClient`` over a real
/// ``TestRuntime``. A test body written against this protocol runs both ways:
///
/// ```swift
/// func greets(_ client: some PluginTestClient) async throws {
///     let response = try await client.execute(TestRequest(.get, "/api/v1/hello/ada"))
///     XCTAssertEqual(response.text, "Hello, ada!\n")
/// }
/// func testInProcess() async throws { try await greets(try await TestHost.start(HelloPlugin.self)) }
/// func testLive() async throws { try await greets(try LiveTestClient(plugins: [helloLibrary])) }
/// ```
public protocol PluginTestClient: Sendable {
    /// Sends `request` and returns the response.
    func execute(_ request: TestRequest) async throws -> TestResponse
}

extension PluginTestClient {
    /// A `GET`.
    public func get(_ target: String, headers: [(String, String)] = [], caller: TestCaller? = nil) async throws -> TestResponse {
        try await execute(TestRequest(.get, target, headers: headers, caller: caller))
    }

    /// A request with `body`.
    public func send(_ method: HTTPMethod, _ target: String, headers: [(String, String)] = [], body: [UInt8] = [],
                     caller: TestCaller? = nil) async throws -> TestResponse {
        try await execute(TestRequest(method, target, headers: headers, body: body, caller: caller))
    }

    /// A request with `value` as its JSON body.
    public func send<T: Encodable>(_ method: HTTPMethod, _ target: String, json value: T, caller: TestCaller? = nil) async throws -> TestResponse {
        try await execute(TestRequest(method, target, headers: [("Content-Type", "application/json")],
                                      body: Array(try JSONEncoder().encode(value)), caller: caller))
    }
}

extension TestResponse {
    /// The body decoded as JSON.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(body))
    }
}

import PlexusSDK

/// The example plugin: a greeting route, an echo route, and a JSON route.
///
/// It shows the whole SDK surface a plugin needs for HTTP: a synchronous fast route, path
/// parameters, `async` work off the loop, `Codable` bodies and typed errors.
@PluginActor
public final class HelloPlugin: Plugin {
    public static let manifest = PluginManifest(
        name: "hello",
        version: "1.0.0",
        description: "Example plugin: greetings, echo and JSON",
        configKeys: ["greeting", "access"]
    )

    private let greeting: String
    private var served = 0

    public init(context: PluginContext) throws {
        greeting = context.config.string("greeting", default: "Hello")
        // `access = "authenticated"` puts the plain greeting behind the gateway (the gateway benchmark).
        let access: RouteOptions.Access = context.config.string("access", default: "public") == "authenticated" ? .authenticated : .public
        try context.routes.get("/api/v1/hello", options: RouteOptions(access: access, summary: "A fixed greeting")) { _ in
            .text("hello\n")
        }
        try context.routes.get("/api/v1/hello/:name", options: RouteOptions.public.summary("A greeting for :name")) { [unowned self] request in
            served += 1
            return .text("\(greeting), \(request.parameters["name"] ?? "")!\n")
        }
        try context.routes.get("/api/v1/whoami", options: RouteOptions(summary: "The verified caller", responseSchema: JSONSchema.of(WhoAmI.self))) { request in
            try .json(WhoAmI(subject: request.caller?.subject ?? "", tenant: request.tenant, roles: request.caller?.roles.sorted() ?? []))
        }
        try context.routes.post("/api/v1/echo", options: RouteOptions(summary: "Echoes the body")) { request in
            Response(status: 200, headers: Headers([("Content-Type", request.headers["Content-Type"] ?? "application/octet-stream")]),
                     body: request.body)
        }
        try context.routes.post("/api/v1/hello/count-words",
                                options: RouteOptions(summary: "Counts the words of a text", requestBody: WordCountRequest.self,
                                                      responseBody: WordCountResponse.self)) { request async throws in
            let input = try request.decode(WordCountRequest.self)
            guard !input.text.isEmpty else { throw HTTPError.unprocessable("field 'text' must not be empty") }
            let words = try await context.offLoop { input.text.split(whereSeparator: \.isWhitespace).count }
            return try .json(WordCountResponse(words: words))
        }
        try context.routes.get("/api/v1/hello/delay/:ms", options: RouteOptions.public.summary("Answers after :ms milliseconds")) { request async throws in
            guard let milliseconds = request.parameters["ms"].flatMap(UInt64.init), milliseconds <= 60_000 else {
                throw HTTPError.badRequest("path parameter 'ms' must be an integer from 0 to 60000")
            }
            await context.sleep(for: .milliseconds(milliseconds))
            return .text("waited \(milliseconds) ms\n")
        }
        try context.routes.get("/api/v1/files/*", options: RouteOptions.public.summary("Names the file path it was given")) { request in
            .text("file: \(request.parameters["*"] ?? "")\n")
        }
    }

    public func health() -> HealthReport {
        HealthReport(status: .ok, detail: "served \(served) greetings")
    }
}

struct WordCountRequest: Decodable, Sendable {
    let text: String
}

struct WordCountResponse: Codable, Sendable {
    let words: Int
}

struct WhoAmI: Codable, Sendable {
    let subject: String
    let tenant: String?
    let roles: [String]
}

/// The fixed parts of the document: security schemes, the problem schema, shared error responses.
enum OpenAPIComponents {
    /// `{"$ref": "#/components/<section>/<name>"}`.
    static func ref(_ section: String, _ name: String) -> JSONValue {
        ["$ref": .string("#/components/\(section)/\(name)")]
    }

    static let securitySchemes: JSONValue = [
        "bearerAuth": [
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description":
                "A JWT in `Authorization: Bearer <token>`. The same header also accepts an API key (`Bearer plx_...`).",
        ],
        "apiKeyAuth": [
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An API key (`plx_...`) in the `X-API-Key` header, or as `Authorization: Bearer plx_...`.",
        ],
    ]

    /// RFC 9457 problem details; every error response of the gateway has this body.
    static let problemSchema: JSONValue = [
        "type": "object",
        "description": "Problem details (RFC 9457).",
        "properties": [
            "type": ["type": "string", "format": "uri-reference", "description": "Identifies the problem type."],
            "title": ["type": "string", "description": "A short summary of the problem type."],
            "status": ["type": "integer", "description": "The HTTP status code."],
            "detail": ["type": "string", "description": "An explanation specific to this occurrence."],
            "instance": ["type": "string", "format": "uri-reference", "description": "Identifies this occurrence."],
        ],
    ]

    static let headers: JSONValue = [
        "Retry-After": [
            "description": "Seconds to wait before retrying.",
            "schema": ["type": "integer", "minimum": 0],
        ],
        "RateLimit": [
            "description": "Remaining quota: `\"<policy>\";r=<remaining>;t=<seconds to reset>` (draft-ietf-httpapi-ratelimit-headers).",
            "schema": ["type": "string"],
        ],
        "RateLimit-Policy": [
            "description": "The quota policy: `\"<policy>\";q=<quota>;w=<window seconds>` (draft-ietf-httpapi-ratelimit-headers).",
            "schema": ["type": "string"],
        ],
    ]

    /// Names of the shared responses, by status (`default` for any other).
    static let sharedResponseNames: [String: String] = [
        "401": "Unauthorized", "403": "Forbidden", "413": "PayloadTooLarge", "429": "TooManyRequests",
        "503": "ServiceUnavailable", "504": "GatewayTimeout", "default": "Problem",
    ]

    static var responses: JSONValue {
        func problem(_ description: String, headers: [String] = []) -> JSONValue {
            var response: [String: JSONValue] = [
                "description": .string(description),
                "content": ["application/problem+json": ["schema": ref("schemas", "Problem")]],
            ]
            if !headers.isEmpty {
                response["headers"] = .object(Dictionary(uniqueKeysWithValues: headers.map { ($0, ref("headers", $0)) }))
            }
            return .object(response)
        }
        return [
            "Unauthorized": problem("Missing, malformed, expired or unknown credentials."),
            "Forbidden": problem("Authenticated, but lacking a required role, scope or tenant."),
            "PayloadTooLarge": problem("The request body exceeds the route's limit."),
            "TooManyRequests": problem("Rate limit exceeded.", headers: ["Retry-After", "RateLimit", "RateLimit-Policy"]),
            "ServiceUnavailable": problem(
                "The plugin is unavailable: circuit open, concurrency limit reached, or not running.",
                headers: ["Retry-After"]),
            "GatewayTimeout": problem("The plugin did not answer in time."),
            "Problem": problem("Any other error."),
        ]
    }

    static var all: JSONValue {
        [
            "securitySchemes": securitySchemes,
            "schemas": ["Problem": problemSchema],
            "headers": headers,
            "responses": responses,
        ]
    }

    /// The usual reason phrase for a success status, as the response description.
    static func successDescription(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 300..<400: "Redirect"
        default: "Success"
        }
    }
}

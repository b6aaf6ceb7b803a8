import Foundation
import PlexusPolicy
import XCTest

final class OpenAPIBuilderTests: XCTestCase {
    private let noteSchema: JSONValue = [
        "type": "object", "required": ["title"], "properties": ["title": ["type": "string"], "body": ["type": "string"]],
    ]

    private var routes: [OpenAPIRoute] {
        [
            OpenAPIRoute(method: "GET", path: "/notes", plugin: "notes", summary: "List notes", access: .public),
            OpenAPIRoute(
                method: "post", path: "/notes", plugin: "notes", summary: "Create a note", access: .authenticated,
                roles: ["editor"], scopes: ["notes:write"], tenantRequired: true, requestSchema: noteSchema,
                responseSchema: noteSchema, responseStatus: 201, maxBodyBytes: 65_536),
            OpenAPIRoute(method: "GET", path: "/notes/:id", plugin: "notes", responseSchema: noteSchema),
            OpenAPIRoute(method: "DELETE", path: "/notes/:noteId", plugin: "notes", responseStatus: 204),
            OpenAPIRoute(method: "GET", path: "/files/*", plugin: "files", description: "Any file under /files."),
            OpenAPIRoute(method: "PUT", path: "/upload/", plugin: "files"),
            OpenAPIRoute(method: "GET", path: "/healthz", plugin: "plexus", access: .public),
        ]
    }

    private func build(_ routes: [OpenAPIRoute]) throws -> [String: Any] {
        let builder = OpenAPIBuilder(
            title: "Plexus", version: "1.2.3", description: "Test",
            servers: [OpenAPIServer(url: "http://localhost:8080", description: "local")])
        let bytes = try builder.build(routes: routes)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    private func operation(_ document: [String: Any], _ path: String, _ method: String) throws -> [String: Any] {
        let paths = try XCTUnwrap(document["paths"] as? [String: Any])
        let item = try XCTUnwrap(paths[path] as? [String: Any], "no path \(path) in \(paths.keys.sorted())")
        return try XCTUnwrap(item[method] as? [String: Any], "no \(method) under \(path)")
    }

    func testDocumentShape() throws {
        let document = try build(routes)
        XCTAssertEqual(document["openapi"] as? String, "3.1.0")
        let info = try XCTUnwrap(document["info"] as? [String: Any])
        XCTAssertEqual(info["title"] as? String, "Plexus")
        XCTAssertEqual(info["version"] as? String, "1.2.3")
        XCTAssertEqual((document["servers"] as? [[String: Any]])?.first?["url"] as? String, "http://localhost:8080")
        XCTAssertEqual((document["tags"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["files", "notes", "plexus"])
        let paths = try XCTUnwrap(document["paths"] as? [String: Any])
        XCTAssertEqual(paths.keys.sorted(), ["/files/{rest}", "/healthz", "/notes", "/notes/{id}", "/upload"])

        let components = try XCTUnwrap(document["components"] as? [String: Any])
        let schemes = try XCTUnwrap(components["securitySchemes"] as? [String: [String: Any]])
        XCTAssertEqual(schemes["bearerAuth"]?["type"] as? String, "http")
        XCTAssertEqual(schemes["bearerAuth"]?["scheme"] as? String, "bearer")
        XCTAssertEqual(schemes["bearerAuth"]?["bearerFormat"] as? String, "JWT")
        XCTAssertEqual(schemes["apiKeyAuth"]?["in"] as? String, "header")
        XCTAssertEqual(schemes["apiKeyAuth"]?["name"] as? String, "X-API-Key")
        let problem = try XCTUnwrap((components["schemas"] as? [String: Any])?["Problem"] as? [String: Any])
        XCTAssertEqual(
            (problem["properties"] as? [String: Any])?.keys.sorted(), ["detail", "instance", "status", "title", "type"])
    }

    func testPublicAndAuthenticatedSecurity() throws {
        let document = try build(routes)
        let list = try operation(document, "/notes", "get")
        XCTAssertEqual((list["security"] as? [Any])?.count, 0, "public: an empty security array")
        XCTAssertNotNil(list["security"])
        let create = try operation(document, "/notes", "post")
        let security = try XCTUnwrap(create["security"] as? [[String: [String]]])
        XCTAssertEqual(security, [["bearerAuth": ["notes:write"]], ["apiKeyAuth": []]])
        XCTAssertEqual(create["x-plexus-roles"] as? [String], ["editor"])
        XCTAssertEqual(create["x-plexus-tenant-required"] as? Bool, true)
        XCTAssertNil(list["x-plexus-roles"])
    }

    func testResponses() throws {
        let document = try build(routes)
        let create = try operation(document, "/notes", "post")
        let responses = try XCTUnwrap(create["responses"] as? [String: Any])
        XCTAssertEqual(responses.keys.sorted(), ["201", "401", "403", "413", "429", "503", "504", "default"])
        let created = try XCTUnwrap(responses["201"] as? [String: Any])
        XCTAssertEqual(created["description"] as? String, "Created")
        XCTAssertNotNil(((created["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"])
        XCTAssertEqual((responses["429"] as? [String: String])?["$ref"], "#/components/responses/TooManyRequests")

        let list = try operation(document, "/notes", "get")
        let publicResponses = try XCTUnwrap(list["responses"] as? [String: Any])
        XCTAssertEqual(publicResponses.keys.sorted(), ["200", "429", "503", "504", "default"], "no 401/403 when public")

        let delete = try operation(document, "/notes/{id}", "delete")
        let noContent = try XCTUnwrap((delete["responses"] as? [String: Any])?["204"] as? [String: Any])
        XCTAssertNil(noContent["content"])

        let components = try XCTUnwrap(document["components"] as? [String: Any])
        let shared = try XCTUnwrap(components["responses"] as? [String: [String: Any]])
        let tooMany = try XCTUnwrap(shared["TooManyRequests"])
        XCTAssertNotNil((tooMany["content"] as? [String: Any])?["application/problem+json"])
        XCTAssertEqual((tooMany["headers"] as? [String: Any])?.keys.sorted(), ["RateLimit", "RateLimit-Policy", "Retry-After"])
    }

    func testRequestBodies() throws {
        let document = try build(routes)
        let create = try operation(document, "/notes", "post")
        let body = try XCTUnwrap(create["requestBody"] as? [String: Any])
        XCTAssertEqual(body["required"] as? Bool, true)
        XCTAssertEqual((body["content"] as? [String: Any])?.keys.sorted(), ["application/json"])
        XCTAssertEqual(body["x-plexus-max-body-bytes"] as? Int, 65_536)

        let upload = try operation(document, "/upload", "put")
        let raw = try XCTUnwrap(upload["requestBody"] as? [String: Any])
        XCTAssertEqual(raw["required"] as? Bool, false)
        XCTAssertEqual((raw["content"] as? [String: Any])?.keys.sorted(), ["*/*", "application/octet-stream"])

        XCTAssertNil(try operation(document, "/notes", "get")["requestBody"], "GET without a schema has no body")
    }

    func testPathParametersAndWildcard() throws {
        let document = try build(routes)
        for method in ["get", "delete"] {
            let parameters = try XCTUnwrap(try operation(document, "/notes/{id}", method)["parameters"] as? [[String: Any]])
            XCTAssertEqual(parameters.count, 1)
            XCTAssertEqual(parameters[0]["name"] as? String, "id", "routes of one path share the first route's names")
            XCTAssertEqual(parameters[0]["in"] as? String, "path")
            XCTAssertEqual(parameters[0]["required"] as? Bool, true)
            XCTAssertEqual((parameters[0]["schema"] as? [String: Any])?["type"] as? String, "string")
        }
        let files = try operation(document, "/files/{rest}", "get")
        let rest = try XCTUnwrap((files["parameters"] as? [[String: Any]])?.first)
        XCTAssertEqual(rest["name"] as? String, "rest")
        XCTAssertEqual(rest["x-plexus-wildcard"] as? Bool, true)
        XCTAssertNil(try operation(document, "/healthz", "get")["parameters"])
    }

    func testOperationIDsAreStableAndUnique() throws {
        let document = try build(routes)
        XCTAssertEqual(try operation(document, "/notes/{id}", "get")["operationId"] as? String, "notes_get_notes_id")
        XCTAssertEqual(try operation(document, "/notes/{id}", "delete")["operationId"] as? String, "notes_delete_notes_noteid")
        XCTAssertEqual(try operation(document, "/files/{rest}", "get")["operationId"] as? String, "files_get_files_rest")

        let clash = try build([
            OpenAPIRoute(method: "GET", path: "/a-b", plugin: "p"),
            OpenAPIRoute(method: "GET", path: "/a_b", plugin: "p"),
            OpenAPIRoute(method: "GET", path: "/", plugin: "p"),
        ])
        XCTAssertEqual(try operation(clash, "/a-b", "get")["operationId"] as? String, "p_get_a_b")
        XCTAssertEqual(try operation(clash, "/a_b", "get")["operationId"] as? String, "p_get_a_b_2")
        XCTAssertEqual(try operation(clash, "/", "get")["operationId"] as? String, "p_get_root")
    }

    func testOutputIsDeterministic() throws {
        let builder = OpenAPIBuilder(title: "Plexus", version: "1")
        let once = try builder.build(routes: routes)
        let shuffled = try builder.build(routes: routes.reversed())
        XCTAssertEqual(once, shuffled, "route order does not change the bytes")
        XCTAssertEqual(once, try builder.build(routes: routes))
    }

    func testSameHierarchyCollisionsAndDuplicates() throws {
        let document = try build([
            OpenAPIRoute(method: "GET", path: "/f/*", plugin: "p", summary: "wildcard"),
            OpenAPIRoute(method: "GET", path: "/f/:name", plugin: "p", summary: "one file"),
            OpenAPIRoute(method: "PUT", path: "/f/*", plugin: "p"),
            OpenAPIRoute(method: "GET", path: "/x", plugin: "p", summary: "first"),
            OpenAPIRoute(method: "GET", path: "/x", plugin: "p", summary: "second"),
        ])
        let paths = try XCTUnwrap(document["paths"] as? [String: Any])
        XCTAssertEqual(paths.keys.sorted(), ["/f/{name}", "/x"])
        XCTAssertEqual(try operation(document, "/f/{name}", "get")["summary"] as? String, "one file")
        let put = try XCTUnwrap((try operation(document, "/f/{name}", "put")["parameters"] as? [[String: Any]])?.first)
        XCTAssertEqual(put["x-plexus-wildcard"] as? Bool, true)
        XCTAssertEqual(document["x-plexus-undocumented"] as? [String], ["GET /f/*"])
        XCTAssertEqual(try operation(document, "/x", "get")["summary"] as? String, "second", "a later duplicate replaces")
    }

    func testMalformedRoutesAreTypedErrors() {
        let builder = OpenAPIBuilder(title: "t", version: "1")
        let bad = [
            OpenAPIRoute(method: "FETCH", path: "/a", plugin: "p"),
            OpenAPIRoute(method: "GET", path: "a", plugin: "p"),
            OpenAPIRoute(method: "GET", path: "/a//b", plugin: "p"),
            OpenAPIRoute(method: "GET", path: "/*/b", plugin: "p"),
            OpenAPIRoute(method: "GET", path: "/:a/:a", plugin: "p"),
            OpenAPIRoute(method: "GET", path: "/:", plugin: "p"),
            OpenAPIRoute(method: "GET", path: "/a", plugin: ""),
            OpenAPIRoute(method: "GET", path: "/a", plugin: "p", responseStatus: 99),
            OpenAPIRoute(method: "POST", path: "/a", plugin: "p", requestSchema: "object"),
            OpenAPIRoute(method: "POST", path: "/a", plugin: "p", maxBodyBytes: -1),
        ]
        for route in bad {
            XCTAssertThrowsError(try builder.build(routes: [route]), "\(route.method) \(route.path)") {
                XCTAssertEqual(($0 as? PolicyError)?.kind, .invalidRoute)
            }
        }
    }
}

import Foundation
import PlexusSDK
import XCTest

/// `JSONSchema.of` derives a body schema from a `Decodable` type's own decoding.
final class JSONSchemaTests: XCTestCase {
    struct Address: Codable { let city: String; let zip: String? }
    struct Order: Codable {
        let id: Int
        let note: String?
        let total: Double
        let paid: Bool
        let tags: [String]
        let shipTo: Address
        let lines: [Line]
    }
    struct Line: Codable { let sku: String; let quantity: Int }

    private func object(_ schema: JSONSchema) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(schema.json.utf8)) as? [String: Any])
    }

    func testStructFieldsTypesAndRequiredness() throws {
        let schema = try object(JSONSchema.of(Order.self))
        XCTAssertEqual(schema["type"] as? String, "object")
        let properties = try XCTUnwrap(schema["properties"] as? [String: [String: Any]])
        XCTAssertEqual(properties["id"]?["type"] as? String, "integer")
        XCTAssertEqual(properties["note"]?["type"] as? String, "string")
        XCTAssertEqual(properties["total"]?["type"] as? String, "number")
        XCTAssertEqual(properties["paid"]?["type"] as? String, "boolean")
        XCTAssertEqual(properties["tags"]?["type"] as? String, "array")
        XCTAssertEqual((properties["tags"]?["items"] as? [String: Any])?["type"] as? String, "string")
        let shipTo = try XCTUnwrap(properties["shipTo"])
        XCTAssertEqual((shipTo["properties"] as? [String: Any])?.keys.sorted(), ["city", "zip"])
        XCTAssertEqual(shipTo["required"] as? [String], ["city"])
        let line = try XCTUnwrap(properties["lines"]?["items"] as? [String: Any])
        XCTAssertEqual(line["required"] as? [String], ["sku", "quantity"])
        XCTAssertEqual(Set(schema["required"] as? [String] ?? []), ["id", "total", "paid", "tags", "shipTo", "lines"])
    }

    func testPrimitivesAndArrays() throws {
        XCTAssertEqual(JSONSchema.of(String.self).json, #"{"type":"string"}"#)
        XCTAssertEqual(JSONSchema.of([Int].self).json, #"{"type":"array","items":{"type":"integer"}}"#)
    }
}

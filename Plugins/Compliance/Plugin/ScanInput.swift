import ComplianceEngine
import DocDiff
import Foundation
import PlexusSDK

/// A scan or redaction request, decoded from text, JSON or a .docx (off the loop).
struct ScanInput: Sendable {
    var text: String
    var packs: [String]?
    var mode: RedactionMode?
    var ageDays: Int

    /// Decodes `request`: `application/json` → `{text, packs, mode, age_days}`; a .docx (by
    /// content type or its zip signature) → its text; anything else → UTF-8 text.
    /// - Parameter maxTextBytes: the largest text accepted, raw or extracted from a .docx (413 beyond).
    static func decode(_ request: Request, maxTextBytes: Int) throws -> ScanInput {
        let type = request.headers["Content-Type"]?.lowercased() ?? ""
        let body = request.body
        if type.hasPrefix("application/json") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw HTTPError.badRequest("the body is not a JSON object")
            }
            guard let text = object["text"] as? String else { throw HTTPError.badRequest("field 'text': missing or not a string") }
            var packs: [String]? = nil
            if let raw = object["packs"] {
                guard let list = raw as? [String] else { throw HTTPError.badRequest("field 'packs': must be an array of pack ids") }
                packs = list
            }
            var mode: RedactionMode? = nil
            if let raw = object["mode"] {
                guard let name = raw as? String, let value = RedactionMode(rawValue: name) else {
                    throw HTTPError.badRequest("field 'mode': must be one of mask, type, hash")
                }
                mode = value
            }
            let age = object["age_days"] as? Int ?? 0
            guard age >= 0 && age < 100_000 else { throw HTTPError.badRequest("field 'age_days': must be between 0 and 99999") }
            return ScanInput(text: text, packs: packs, mode: mode, ageDays: age)
        }
        if type.contains("wordprocessingml") || (body.count >= 4 && body[0] == 0x50 && body[1] == 0x4B && body[2] == 3 && body[3] == 4) {
            let text: String
            do {
                text = try DocxReader.text(from: Data(body))
            } catch {
                throw HTTPError.badRequest("broken .docx: \(error)")
            }
            guard text.utf8.count <= maxTextBytes else {
                throw HTTPError.payloadTooLarge("the text extracted from the .docx is \(text.utf8.count) bytes, more than \(maxTextBytes) (max_body_bytes)")
            }
            return ScanInput(text: text, packs: nil, mode: nil, ageDays: 0)
        }
        guard let text = String(validating: body, as: UTF8.self) else {
            throw HTTPError.badRequest("the body is not valid UTF-8 text (first invalid byte at offset \(firstInvalidByte(body)))")
        }
        return ScanInput(text: text, packs: nil, mode: nil, ageDays: 0)
    }

    /// The offset of the first byte that does not continue a valid UTF-8 sequence.
    static func firstInvalidByte(_ bytes: [UInt8]) -> Int {
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let length = b < 0x80 ? 1 : b >= 0xC2 && b < 0xE0 ? 2 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xF0 && b < 0xF5 ? 4 : 0
            guard length > 0, i + length <= bytes.count,
                  String(validating: bytes[i..<(i + length)], as: UTF8.self) != nil else { return i }
            i += length
        }
        return i
    }
}

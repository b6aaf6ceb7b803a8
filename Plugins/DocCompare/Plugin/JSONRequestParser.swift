import DocDiff
import Foundation
import PlexusSDK

/// Parses `application/json` compare requests:
/// `{"old": {"text": "..."} | {"docx_base64": "..."}, "new": {...}, "granularity": ..., ...}`.
///
/// Every failure is an ``HTTPError`` whose detail names the field and the reason.
enum JSONRequestParser {
    /// The keys a document object may carry (exactly one of them).
    static let documentKeys = ["text", "docx_base64"]

    /// Parses a JSON body into a ``CompareRequest``.
    static func parse(_ body: [UInt8]) throws -> CompareRequest {
        if body.isEmpty { throw HTTPError.badRequest("body is empty; expected a JSON object with fields 'old' and 'new'") }
        do {
            _ = try TextDocument(validating: body)
        } catch DocDiffError.invalidUTF8(let offset) {
            throw HTTPError.badRequest("body is not valid UTF-8 (first invalid byte at offset \(offset))")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            throw HTTPError.badRequest("body is not valid JSON: \(error.localizedDescription)")
        }
        guard let fields = object as? [String: Any] else {
            throw HTTPError.badRequest("body must be a JSON object with fields 'old' and 'new'")
        }
        let allowed = ["old", "new"] + CompareOptions.fieldNames
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw HTTPError.badRequest("unknown field '\(unknown)'; allowed: \(allowed.joined(separator: ", "))")
        }
        var options = CompareOptions()
        for name in CompareOptions.fieldNames {
            guard let value = fields[name], !(value is NSNull) else { continue }
            if CompareOptions.isFlag(name) {
                if let flag = value as? Bool, !(value is String) {
                    try options.set(name, bool: flag)
                } else {
                    throw HTTPError.badRequest("field '\(name)' must be a boolean (true or false)")
                }
            } else if let text = value as? String {
                try options.set(name, text: text)
            } else {
                throw HTTPError.badRequest("field '\(name)' must be a string; allowed: \(CompareOptions.allowed(name))")
            }
        }
        return CompareRequest(old: try document("old", fields["old"]), new: try document("new", fields["new"]), options: options)
    }

    /// Reads the document object in field `name`.
    static func document(_ name: String, _ value: Any?) throws -> DocumentSource {
        guard let value, !(value is NSNull) else {
            throw HTTPError.badRequest("missing field '\(name)': expected {\"text\": ...} or {\"docx_base64\": ...}")
        }
        guard let object = value as? [String: Any] else {
            throw HTTPError.badRequest("field '\(name)' must be an object: {\"text\": ...} or {\"docx_base64\": ...}")
        }
        return try document(object, name: name)
    }

    /// Reads the fields of a document object: exactly one of `text` and `docx_base64`.
    /// - Parameter name: the object's field name in error messages (`old`), or nil for a whole body.
    static func document(_ object: [String: Any], name: String? = nil) throws -> DocumentSource {
        let prefix = name.map { "\($0)." } ?? ""
        if let unknown = object.keys.sorted().first(where: { !documentKeys.contains($0) }) {
            throw HTTPError.badRequest("unknown field '\(prefix)\(unknown)'; allowed: text, docx_base64")
        }
        let present = documentKeys.filter { object[$0] != nil }
        guard present.count == 1 else {
            throw HTTPError.badRequest(present.isEmpty
                ? "missing field '\(prefix)text' or '\(prefix)docx_base64'"
                : "\(name.map { "field '\($0)'" } ?? "the body") must have exactly one of 'text' and 'docx_base64', not both")
        }
        let key = present[0]
        guard let string = object[key] as? String else {
            throw HTTPError.badRequest("field '\(prefix)\(key)' must be a string")
        }
        if key == "text" {
            return DocumentSource(field: "\(prefix)text", kind: .text, bytes: Array(string.utf8)[...], filename: nil)
        }
        let hasBreaks = string.utf8.contains { $0 == 0x0A || $0 == 0x0D || $0 == 0x20 || $0 == 0x09 }
        let compact = hasBreaks ? String(string.unicodeScalars.filter { !$0.properties.isWhitespace }.map(Character.init)) : string
        guard let data = Data(base64Encoded: compact) else {
            throw HTTPError.badRequest("field '\(prefix)docx_base64' is not valid base64")
        }
        return DocumentSource(field: "\(prefix)docx_base64", kind: .docx, bytes: [UInt8](data)[...], filename: nil)
    }
}

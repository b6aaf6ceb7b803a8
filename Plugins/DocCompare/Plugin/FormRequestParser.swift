import DocDiff
import Foundation
import PlexusSDK

/// Turns a parsed `multipart/form-data` body into a ``CompareRequest``.
///
/// Parts `old` and `new` carry the documents (file parts or plain fields; a zip signature
/// means .docx, anything else is UTF-8 text); the options are plain text fields.
enum FormRequestParser {
    /// Builds the request; unknown, repeated or missing fields are 400s naming the field.
    static func parse(_ form: MultipartFormData) throws -> CompareRequest {
        let allowed = ["old", "new"] + CompareOptions.fieldNames
        var seen = Set<String>()
        var documents: [String: DocumentSource] = [:]
        var options = CompareOptions()
        for part in form.parts {
            guard allowed.contains(part.name) else {
                throw HTTPError.badRequest("unknown form field '\(part.name)'; allowed: \(allowed.joined(separator: ", "))")
            }
            guard seen.insert(part.name).inserted else {
                throw HTTPError.badRequest("form field '\(part.name)' is given more than once")
            }
            if part.name == "old" || part.name == "new" {
                documents[part.name] = DocumentSource.sniffing(field: part.name, bytes: form.bytes(of: part), filename: part.filename)
            } else {
                guard let value = String(validating: form.body[part.range], as: UTF8.self) else {
                    throw HTTPError.badRequest("field '\(part.name)': value is not valid UTF-8")
                }
                try options.set(part.name, text: value.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        guard let old = documents["old"] else { throw HTTPError.badRequest("missing field 'old': a file part with the old version") }
        guard let new = documents["new"] else { throw HTTPError.badRequest("missing field 'new': a file part with the new version") }
        return CompareRequest(old: old, new: new, options: options)
    }
}

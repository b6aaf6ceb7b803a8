import DocDiff
import Foundation
import PlexusSDK

/// Parses the body of `POST /api/v1/documents/:tenant/:document/versions` into one document.
///
/// Accepted bodies (the same inputs as one side of a compare):
/// - `application/json`: `{"text": "..."}` or `{"docx_base64": "..."}`, optionally `"filename"`;
/// - `multipart/form-data`: exactly one part named `file` (a zip signature means .docx, anything else text);
/// - `text/plain`: the raw text;
/// - `application/octet-stream` or the .docx media type: raw bytes, sniffed like a file part.
/// For raw bodies the query parameter `filename` names the file. Errors are 400/415 naming the field.
enum VersionUpload {
    /// The .docx media type.
    static let docxMediaType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

    /// Reads the document out of `request`. Synchronous and possibly large: call it off the loop.
    static func parse(_ request: Request) throws -> DocumentSource {
        let contentType = request.headers["Content-Type"] ?? ""
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch mediaType {
        case "application/json", "":
            return try json(request.body)
        case "multipart/form-data":
            let form = try MultipartFormData.parse(request: request.body, contentType: contentType)
            var file: DocumentSource?
            for part in form.parts {
                guard part.name == "file" else {
                    throw HTTPError.badRequest("unknown form field '\(part.name)'; allowed: file")
                }
                guard file == nil else { throw HTTPError.badRequest("form field 'file' is given more than once") }
                file = DocumentSource.sniffing(field: "file", bytes: form.bytes(of: part), filename: try filename(part.filename, field: "file"))
            }
            guard let file else { throw HTTPError.badRequest("missing field 'file': a file part with the document") }
            return file
        case "text/plain":
            return DocumentSource(field: "body", kind: .text, bytes: request.body[...],
                                  filename: try filename(request.query["filename"], field: "filename"))
        case "application/octet-stream", docxMediaType:
            return DocumentSource.sniffing(field: "body", bytes: request.body[...], filename: try filename(request.query["filename"], field: "filename"))
        default:
            throw HTTPError.unsupportedMediaType("header 'Content-Type': '\(mediaType)' is not supported; use application/json, "
                + "multipart/form-data, text/plain, application/octet-stream or \(docxMediaType)")
        }
    }

    /// `{"text"}` or `{"docx_base64"}`, plus an optional `"filename"`.
    static func json(_ body: [UInt8]) throws -> DocumentSource {
        if body.isEmpty { throw HTTPError.badRequest("body is empty; expected a JSON object with field 'text' or 'docx_base64'") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            throw HTTPError.badRequest("body is not valid JSON: \(error.localizedDescription)")
        }
        guard var fields = object as? [String: Any] else {
            throw HTTPError.badRequest("body must be a JSON object with field 'text' or 'docx_base64'")
        }
        if let unknown = fields.keys.sorted().first(where: { !(JSONRequestParser.documentKeys + ["filename"]).contains($0) }) {
            throw HTTPError.badRequest("unknown field '\(unknown)'; allowed: text, docx_base64, filename")
        }
        var name: String?
        if let value = fields.removeValue(forKey: "filename"), !(value is NSNull) {
            guard let text = value as? String else { throw HTTPError.badRequest("field 'filename' must be a string") }
            name = try filename(text, field: "filename")
        }
        let source = try JSONRequestParser.document(fields)
        return DocumentSource(field: source.field, kind: source.kind, bytes: source.bytes, filename: name)
    }

    /// A file name to record: at most 255 UTF-8 bytes, no control characters, no path (a path keeps its last component).
    static func filename(_ value: String?, field: String) throws -> String? {
        guard var value, !value.isEmpty else { return nil }
        if let slash = value.lastIndex(where: { $0 == "/" || $0 == "\\" }) { value = String(value[value.index(after: slash)...]) }
        guard value.utf8.count <= 255, !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw HTTPError.badRequest("field '\(field)': a file name must be at most 255 bytes without control characters")
        }
        return value.isEmpty ? nil : value
    }
}

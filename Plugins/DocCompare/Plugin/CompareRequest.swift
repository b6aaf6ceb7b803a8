import DocDiff
import Foundation
import PlexusSDK

/// One input document as the client sent it, before decoding.
struct DocumentSource: Sendable {
    /// How the bytes are to be read.
    enum Kind: String, Sendable {
        /// UTF-8 text.
        case text
        /// An Office Open XML word-processing document.
        case docx
    }

    /// The field the document came from (`old` or `new`), for error messages.
    var field: String
    /// How to read ``bytes``.
    var kind: Kind
    /// The raw document bytes (text, or the .docx zip): a part of the request body, not a copy.
    var bytes: ArraySlice<UInt8>
    /// The uploaded file name, if any (used as a label in outputs).
    var filename: String?
    /// The label in unified diffs and redline titles when it should differ from ``filename``
    /// (stored versions: `<document>@v<n>`); nil: the filename, else `old`/`new`.
    var label: String? = nil

    /// The zip local-file-header signature that starts every .docx.
    static let zipSignature: [UInt8] = [0x50, 0x4B, 0x03, 0x04]

    /// A document whose kind is sniffed from its bytes: a zip signature means .docx, anything else text.
    static func sniffing(field: String, bytes: ArraySlice<UInt8>, filename: String?) -> DocumentSource {
        let isZip = bytes.starts(with: zipSignature)
        return DocumentSource(field: field, kind: isZip ? .docx : .text, bytes: bytes, filename: filename)
    }
}

/// A parsed compare or redline request: the two documents and the options.
struct CompareRequest: Sendable {
    /// The old version.
    var old: DocumentSource
    /// The new version.
    var new: DocumentSource
    /// The validated options.
    var options: CompareOptions

    /// Parses a request body, JSON or `multipart/form-data`, according to its `Content-Type`.
    /// - Throws: ``HTTPError`` 400/413/415 naming the offending field.
    static func parse(_ request: Request) throws -> CompareRequest {
        let contentType = request.headers["Content-Type"] ?? ""
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch mediaType {
        case "application/json", "":
            return try JSONRequestParser.parse(request.body)
        case "multipart/form-data":
            let form = try MultipartFormData.parse(request: request.body, contentType: contentType)
            return try FormRequestParser.parse(form)
        default:
            throw HTTPError.unsupportedMediaType(
                "header 'Content-Type': '\(mediaType)' is not supported; use application/json or multipart/form-data")
        }
    }
}

import DocDiff
import Foundation
import PlexusSDK

/// Turns a ``DocumentSource`` into validated text, enforcing the plugin's size limit.
///
/// Errors are ``HTTPError``s naming the field: 413 when the document (raw, or the text
/// extracted from a .docx) is over the limit, 400 when it is not UTF-8 (with the byte offset)
/// or a broken .docx (with the part that is broken).
enum DocumentDecoder {
    /// Decodes `source`; `maxInputBytes` bounds both the raw bytes and the decoded text.
    static func decode(_ source: DocumentSource, maxInputBytes: Int) throws -> TextDocument {
        try checkSize(source.bytes.count, of: source, limit: maxInputBytes, what: "document")
        switch source.kind {
        case .text:
            do {
                return try TextDocument(validating: source.bytes)
            } catch DocDiffError.invalidUTF8(let offset) {
                throw HTTPError.badRequest("field '\(source.field)': text is not valid UTF-8 (first invalid byte at offset \(offset))")
            }
        case .docx:
            let text: String
            do {
                text = try DocxReader.text(from: Data(source.bytes), maximumXMLBytes: maxInputBytes)
            } catch DocDiffError.docxTooLarge(let limit) {
                throw HTTPError.payloadTooLarge(
                    "field '\(source.field)': word/document.xml extracted from the .docx inflates to more than \(limit) bytes, larger than the limit of \(maxInputBytes) bytes (max_input_bytes)")
            } catch let error as DocDiffError {
                throw HTTPError.badRequest("field '\(source.field)': broken .docx: \(describe(error))")
            }
            let document = TextDocument(text)
            try checkSize(document.bytes.count, of: source, limit: maxInputBytes, what: "text extracted from the .docx")
            return document
        }
    }

    /// Throws 413 when `size` is over `limit`.
    static func checkSize(_ size: Int, of source: DocumentSource, limit: Int, what: String) throws {
        if size > limit {
            throw HTTPError.payloadTooLarge(
                "field '\(source.field)': \(what) of \(size) bytes is larger than the limit of \(limit) bytes (max_input_bytes)")
        }
    }

    /// Says which part of the .docx is broken.
    static func describe(_ error: DocDiffError) -> String {
        switch error {
        case .docxNotAZipArchive: "the zip container is unreadable (truncated or corrupt archive)"
        case .docxMissingDocumentXML: "part 'word/document.xml' is missing from the archive"
        case .docxMalformedXML(let detail): "part 'word/document.xml' is not well-formed XML (\(detail))"
        default: error.description
        }
    }
}

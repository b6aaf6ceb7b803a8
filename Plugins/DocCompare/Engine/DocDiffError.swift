import Foundation

/// Errors thrown by the DocDiff engine. Each case says what is wrong with the input.
public enum DocDiffError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes are not valid UTF-8; `offset` is the byte offset of the first invalid sequence.
    case invalidUTF8(offset: Int)
    /// The input is larger than the configured limit.
    case inputTooLarge(size: Int, limit: Int)
    /// The `.docx` data is not a zip archive.
    case docxNotAZipArchive
    /// The `.docx` archive has no `word/document.xml` entry.
    case docxMissingDocumentXML
    /// `word/document.xml` inflates to more than `limit` bytes (inflation stopped there).
    case docxTooLarge(limit: Int)
    /// The `.docx` archive is refused by a limit of the reader; `detail` says which.
    case docxRefused(detail: String)
    /// `word/document.xml` could not be parsed; `detail` carries the parser's message.
    case docxMalformedXML(detail: String)
    /// A file could not be read.
    case unreadableFile(path: String, detail: String)
    /// A JSON edit script does not match the text it is applied to.
    case editScriptMismatch(detail: String)

    /// A human-readable description of the error.
    public var description: String {
        switch self {
        case .invalidUTF8(let offset):
            return "text is not valid UTF-8 (first invalid byte at offset \(offset))"
        case .inputTooLarge(let size, let limit):
            return "input of \(size) bytes exceeds the limit of \(limit) bytes"
        case .docxNotAZipArchive:
            return "the .docx file is not a zip archive"
        case .docxMissingDocumentXML:
            return "the .docx archive has no word/document.xml"
        case .docxTooLarge(let limit):
            return "word/document.xml inflates to more than \(limit) bytes"
        case .docxRefused(let detail):
            return "the .docx archive is refused: \(detail)"
        case .docxMalformedXML(let detail):
            return "word/document.xml is not well-formed XML: \(detail)"
        case .unreadableFile(let path, let detail):
            return "cannot read \(path): \(detail)"
        case .editScriptMismatch(let detail):
            return "edit script does not apply: \(detail)"
        }
    }
}

import Foundation

/// The kinds of input document the engine understands.
public enum DocumentFormat: String, Codable, Sendable, CaseIterable {
    /// Plain UTF-8 text.
    case plainText
    /// Markdown, compared as UTF-8 text (its markup is kept verbatim so that outputs round-trip).
    case markdown
    /// An Office Open XML word-processing document; its paragraphs are extracted as text lines.
    case docx

    /// Guesses the format from a file name's extension (`.docx`, `.md`/`.markdown`, anything else is plain text).
    public static func infer(fromPath path: String) -> DocumentFormat {
        let ext = (path as NSString).pathExtension.lowercased()
        switch ext {
        case "docx": return .docx
        case "md", "markdown", "mdown", "mkd": return .markdown
        default: return .plainText
        }
    }
}

/// Input size limits, so a host can refuse oversized documents before diffing them.
public struct InputLimits: Sendable, Codable, Equatable {
    /// The largest accepted input, in bytes.
    public var maximumBytes: Int

    /// Creates limits with the given maximum size in bytes (default 64 MiB).
    public init(maximumBytes: Int = 64 << 20) { self.maximumBytes = maximumBytes }

    /// The default limits (64 MiB).
    public static let `default` = InputLimits()

    /// Throws `DocDiffError.inputTooLarge` when `size` exceeds the limit.
    public func check(size: Int) throws {
        if size > maximumBytes { throw DocDiffError.inputTooLarge(size: size, limit: maximumBytes) }
    }
}

/// A validated UTF-8 text held as bytes. Value type; cheap to copy (copy-on-write); the bytes
/// may be a part of a larger buffer, read in place (``ByteView``).
public struct TextDocument: Sendable, Equatable {
    /// The UTF-8 bytes of the text.
    public let bytes: ByteView

    /// Wraps bytes after checking that they are valid UTF-8; throws `DocDiffError.invalidUTF8` otherwise.
    public init(validating bytes: [UInt8]) throws {
        try self.init(validating: bytes[...])
    }

    /// Wraps a part of a buffer, in place (no copy), after checking that it is valid UTF-8;
    /// throws `DocDiffError.invalidUTF8` (the offset counted from the part's start) otherwise.
    public init(validating bytes: ArraySlice<UInt8>) throws {
        if let bad = bytes.withUnsafeBufferPointer({ UTF8Validation.firstInvalidOffset($0) }) {
            throw DocDiffError.invalidUTF8(offset: bad)
        }
        self.bytes = ByteView(bytes)
    }

    /// Wraps a Swift string (always valid UTF-8).
    public init(_ string: String) {
        self.bytes = ByteView(Array(string.utf8))
    }

    /// The text as a Swift string.
    public var string: String { bytes.string }

    /// Loads a document from `data` in the given format, enforcing `limits`.
    public static func load(data: Data, format: DocumentFormat, limits: InputLimits = .default) throws -> TextDocument {
        try limits.check(size: data.count)
        switch format {
        case .plainText, .markdown:
            return try TextDocument(validating: [UInt8](data))
        case .docx:
            return TextDocument(try DocxReader.text(from: data, maximumXMLBytes: limits.maximumBytes))
        }
    }

    /// Loads a document from a file; the format is inferred from the extension unless given.
    public static func load(path: String, format: DocumentFormat? = nil, limits: InputLimits = .default) throws -> TextDocument {
        let fmt = format ?? DocumentFormat.infer(fromPath: path)
        if fmt == .docx {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw DocDiffError.unreadableFile(path: path, detail: "\(error)")
            }
            return try load(data: data, format: .docx, limits: limits)
        }
        let bytes = try FileBytes.read(path: path)
        try limits.check(size: bytes.count)
        return try TextDocument(validating: bytes)
    }
}

import Foundation

/// Extracts paragraph text from `.docx` (Office Open XML) documents.
///
/// Reads `word/document.xml` from the zip: each `w:p` is a paragraph, text comes from
/// `w:t` runs, `w:tab` becomes a tab and `w:br`/`w:cr` a newline. Deleted-revision text
/// (`w:delText`) and field instructions are skipped.
public enum DocxReader {
    /// Returns the document's paragraphs, in order.
    ///
    /// The zip is read from memory with libzip (``DocxArchive``: the central directory checked
    /// against the local headers, entry count, method, declared size and ratio bounded), and
    /// `word/document.xml` is inflated chunk by chunk, stopping with
    /// ``DocDiffError/docxTooLarge(limit:)`` as soon as it passes `maximumXMLBytes` (a zip bomb
    /// costs at most that much memory). The XML is then read with libxml2's streaming reader
    /// (``DocumentXML``: no network, no entity substitution, no DTD, depth bounded).
    public static func paragraphs(from data: Data, maximumXMLBytes: Int = InputLimits.default.maximumBytes) throws -> [String] {
        let xml = try DocxArchive.read("word/document.xml", from: data, limit: maximumXMLBytes)
        return try parseDocumentXML(xml)
    }

    /// Returns the document's text: paragraphs joined by newlines, with a final newline.
    public static func text(from data: Data, maximumXMLBytes: Int = InputLimits.default.maximumBytes) throws -> String {
        let paras = try paragraphs(from: data, maximumXMLBytes: maximumXMLBytes)
        return paras.isEmpty ? "" : paras.joined(separator: "\n") + "\n"
    }

    /// Parses the XML of `word/document.xml` into paragraphs.
    public static func parseDocumentXML(_ xml: Data) throws -> [String] {
        try DocumentXML.paragraphs(xml)
    }
}

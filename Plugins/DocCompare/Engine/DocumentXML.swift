import CLibXML2
import Foundation
import XMLGuard

/// Walks `word/document.xml` with libxml2's streaming reader (`xmlTextReader`) and collects the
/// paragraphs' text.
///
/// Hostile XML: the network is never touched (`XML_PARSE_NONET`), entities are not substituted,
/// no external DTD is loaded, and a `<!DOCTYPE` is refused (Word never writes one); libxml2's
/// limits on huge inputs stay on (no `XML_PARSE_HUGE`: one text node or name of over 10 MB is an
/// error), and elements nest at most ``maximumDepth`` deep. The reader pulls the document through
/// the parser in small chunks, so a well-formed part of any size within the caller's limit is read.
enum DocumentXML {
    /// Deeper than any Word document (tables in tables stay far below it).
    static let maximumDepth: Int32 = 200

    /// libxml2 must be initialised once before threads use it.
    private static let initialised: Bool = {
        xmlInitParser()
        return true
    }()

    /// The paragraphs of `xml`, or ``DocDiffError/docxMalformedXML(detail:)`` naming the line.
    static func paragraphs(_ xml: Data) throws -> [String] {
        _ = initialised
        return try xml.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [String] in
            guard let base = raw.baseAddress, raw.count > 0 else {
                throw DocDiffError.docxMalformedXML(detail: "word/document.xml is empty")
            }
            guard raw.count <= Int(Int32.max) else { throw DocDiffError.docxTooLarge(limit: Int(Int32.max)) }
            do { try XMLGuard.check(raw, limits: XMLGuard.Limits(depth: Int(maximumDepth) + 1)) } catch { throw DocDiffError.docxMalformedXML(detail: "word/document.xml: \(error)") }
            let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
            guard let reader = xmlReaderForMemory(base.assumingMemoryBound(to: CChar.self), Int32(raw.count), nil, nil, options) else {
                throw DocDiffError.docxMalformedXML(detail: "libxml2 could not start a reader")
            }
            defer { xmlFreeTextReader(reader) }
            let errors = ErrorSink()
            let sink = Unmanaged.passUnretained(errors).toOpaque()
            xmlTextReaderSetStructuredErrorHandler(reader, { context, error in
                guard let context, let error else { return }
                Unmanaged<ErrorSink>.fromOpaque(context).takeUnretainedValue().record(error.pointee)
            }, sink)
            var collector = Collector()
            while true {
                let status = xmlTextReaderRead(reader)
                if status == 0 { break }
                if status < 0 {
                    throw DocDiffError.docxMalformedXML(detail: errors.first ?? "libxml2 stopped reading (line \(xmlTextReaderGetParserLineNumber(reader)))")
                }
                let depth = xmlTextReaderDepth(reader)
                if depth > maximumDepth {
                    throw DocDiffError.docxMalformedXML(detail: "elements nest deeper than \(maximumDepth) (line \(xmlTextReaderGetParserLineNumber(reader)))")
                }
                try collector.visit(reader)
            }
            if let failure = errors.first { throw DocDiffError.docxMalformedXML(detail: failure) }
            guard collector.sawDocument else { throw DocDiffError.docxMalformedXML(detail: "no w:document root element") }
            return collector.paragraphs
        }
    }

    /// Keeps libxml2's first error (warnings are ignored).
    private final class ErrorSink {
        var first: String?

        func record(_ error: xmlError) {
            guard first == nil, error.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
            var message = error.message.map { String(cString: $0) } ?? "error \(error.code)"
            while message.last?.isWhitespace == true { message.removeLast() }
            first = "\(message) (line \(error.line), column \(error.int2))"
        }
    }

    /// Paragraph text from the reader's nodes: `w:p` is a paragraph, text comes from `w:t` inside
    /// a run, `w:tab` is a tab, `w:br` and `w:cr` a newline; `w:delText` and field codes are skipped.
    private struct Collector {
        var paragraphs: [String] = []
        var current = ""
        var paragraphDepth = 0
        var runDepth = 0
        var inText = false
        var sawDocument = false
        /// The last namespace URI seen and whether it is WordprocessingML (libxml2 interns names).
        var lastURI: UnsafePointer<xmlChar>?
        var lastURIIsWordML = false

        mutating func visit(_ reader: xmlTextReaderPtr) throws {
            switch xmlTextReaderNodeType(reader) {
            case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                guard isWordML(reader), let name = localName(reader) else { return }
                start(name)
                if xmlTextReaderIsEmptyElement(reader) == 1 { end(name) }
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
                guard isWordML(reader), let name = localName(reader) else { return }
                end(name)
            case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue),
                 Int32(XML_READER_TYPE_WHITESPACE.rawValue), Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue):
                if inText, let value = xmlTextReaderConstValue(reader) {
                    current.append(String(cString: value))
                }
            case Int32(XML_READER_TYPE_DOCUMENT_TYPE.rawValue):
                throw DocDiffError.docxMalformedXML(detail: "a <!DOCTYPE> is not allowed in word/document.xml (line \(xmlTextReaderGetParserLineNumber(reader)))")
            default:
                break
            }
        }

        private mutating func isWordML(_ reader: xmlTextReaderPtr) -> Bool {
            guard let uri = xmlTextReaderConstNamespaceUri(reader) else { return false }
            if uri == lastURI { return lastURIIsWordML }
            let text = String(cString: uri)
            lastURI = uri
            lastURIIsWordML = text.hasSuffix("wordprocessingml/2006/main") || text.hasSuffix("wordprocessingml/main")
            return lastURIIsWordML
        }

        private func localName(_ reader: xmlTextReaderPtr) -> String? {
            xmlTextReaderConstLocalName(reader).map { String(cString: $0) }
        }

        private mutating func start(_ name: String) {
            switch name {
            case "document": sawDocument = true
            case "p":
                if paragraphDepth == 0 { current = "" }
                paragraphDepth += 1
            case "r": runDepth += 1
            case "t": if runDepth > 0 { inText = true }
            case "tab": if runDepth > 0 { current.append("\t") }
            case "br", "cr": if runDepth > 0 { current.append("\n") }
            default: break
            }
        }

        private mutating func end(_ name: String) {
            switch name {
            case "p":
                paragraphDepth = max(0, paragraphDepth - 1)
                if paragraphDepth == 0 { paragraphs.append(current); current = "" }
            case "r": runDepth = max(0, runDepth - 1)
            case "t": inText = false
            default: break
            }
        }
    }
}

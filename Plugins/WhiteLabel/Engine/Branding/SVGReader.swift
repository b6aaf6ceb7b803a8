import CLibXML2
import XMLGuard

/// Walks an SVG with libxml2's streaming reader (`xmlTextReader`): elements with their attributes
/// (namespace declarations included, qualified names as written), end tags and processing
/// instructions. No network (`XML_PARSE_NONET`), no entity substitution, no DTD loading; libxml2's
/// limits on huge inputs and depth stay on.
enum SVGReader {
    enum Event {
        case start(name: String, attributes: [(String, String)])
        case end
        case instruction(target: String)
    }

    private static let initialised: Bool = {
        xmlInitParser()
        return true
    }()

    /// Calls `visit` for each event until it returns a problem (thrown as a ``ValidationError``);
    /// returns whether the document was well-formed.
    static func read(_ bytes: [UInt8], _ visit: (Event) -> String?) throws -> Bool {
        _ = initialised
        guard !bytes.isEmpty, bytes.count <= Int(Int32.max) else { return false }
        return try bytes.withUnsafeBufferPointer { buffer -> Bool in
            do { try XMLGuard.check(UnsafeRawBufferPointer(buffer)) } catch { throw ValidationError("the SVG is refused: \(error)") }
            let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
            guard let base = buffer.baseAddress,
                  let reader = xmlReaderForMemory(UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(buffer.count), nil, nil, options) else { return false }
            defer { xmlFreeTextReader(reader) }
            // Errors are reported by the read's status; the handler only keeps them off stderr.
            xmlTextReaderSetStructuredErrorHandler(reader, { _, _ in }, nil)
            while true {
                let status = xmlTextReaderRead(reader)
                if status == 0 { return true }
                if status < 0 { return false }
                let event: Event
                switch xmlTextReaderNodeType(reader) {
                case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                    let name = text(xmlTextReaderConstName(reader))
                    let empty = xmlTextReaderIsEmptyElement(reader) == 1
                    var attributes: [(String, String)] = []
                    while xmlTextReaderMoveToNextAttribute(reader) == 1 {
                        attributes.append((text(xmlTextReaderConstName(reader)), text(xmlTextReaderConstValue(reader))))
                    }
                    if let problem = visit(.start(name: name, attributes: attributes)) { throw ValidationError(problem) }
                    if empty, let problem = visit(.end) { throw ValidationError(problem) }
                    continue
                case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
                    event = .end
                case Int32(XML_READER_TYPE_PROCESSING_INSTRUCTION.rawValue):
                    event = .instruction(target: text(xmlTextReaderConstName(reader)))
                case Int32(XML_READER_TYPE_DOCUMENT_TYPE.rawValue), Int32(XML_READER_TYPE_ENTITY_REFERENCE.rawValue):
                    throw ValidationError("the SVG declares a DOCTYPE or entities; they are refused")
                default:
                    continue
                }
                if let problem = visit(event) { throw ValidationError(problem) }
            }
        }
    }

    private static func text(_ pointer: UnsafePointer<xmlChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }
}

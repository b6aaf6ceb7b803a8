/// Splits a contract into the units a reader sees: numbered clauses, headings, paragraphs.
///
/// A line starts a clause when it begins with a clause number (`1.`, `1.1`, `(a)`, `(iv)`, `a)`,
/// `Article 5`, `ARTICLE V`, `Section 5.2`, `Clause 7`, `§ 3`) *and* the context agrees: it follows
/// a blank line, or the number continues the numbering of the clauses around it (`(b)` after
/// `(a)`, `10.1` after `9.3`, a first `(a)` after a line ending in `:`) and the line before ended
/// a sentence or the number sits at its sequence's indentation. So `(30) days`, `(120)` or
/// `9.00 a.m.` at the start of a wrapped line stay inside their clause. Schedules, annexes,
/// all-capitals titles and execution blocks are headings of their own; blank lines after a unit
/// are its separator. Concatenating the units' texts gives back the document.
public enum ClauseSplitter {
    /// An open level of numbering: its last number, indentation and unit.
    struct Level {
        var reading: ClauseNumber.Reading
        var indent: Int
        var unit: Int
    }

    /// Splits `text` into units.
    /// - Parameter paragraphOpenings: opening words (``openingKey(_:)``) of paragraphs the other
    ///   version has on their own. A line after a finished sentence that opens with them starts a
    ///   paragraph here too, where layout alone could not tell (flush-left text without blank lines).
    public static func split(_ text: String, paragraphOpenings: Set<String> = []) -> [Clause] {
        var units: [Clause] = []
        var stack: [Level] = []
        var sectionHeading: Int? = nil
        var previous: LineShape? = nil        // the last non-blank line
        var previousBlank = true
        var continuationIndent: Int? = nil    // indentation of the current clause's wrapped lines
        let shapes = lines(text).map(LineShape.init)
        let onePerLine = isOneParagraphPerLine(shapes)
        let hanging = wrapsWithHangingIndent(shapes)
        // The widest line: a text whose lines all stay under 50 columns is not wrapped at all.
        let wrapWidth = max(50, shapes.reduce(0) { max($0, $1.width) })

        for shape in shapes {
            let line = shape.line
            if shape.isBlank {
                if units.isEmpty { units.append(Clause(kind: .paragraph, number: nil, lead: "", body: "")) }
                units[units.count - 1].separator += line
                previousBlank = true
                continue
            }
            let current = units.last
            let afterHeading = current?.kind == .heading
            let paragraphStart = previous == nil || previousBlank || afterHeading || onePerLine
            let sentenceEnded = previous.map { $0.endsSentence } ?? true

            if let number = shape.number,
               let (reading, popTo) = accept(number, shape: shape, stack: stack, paragraphStart: paragraphStart,
                                             sentenceEnded: sentenceEnded, previous: previous, wrapWidth: onePerLine ? Int.max : wrapWidth) {
                stack.removeSubrange(popTo...)
                let parent = stack.last?.unit ?? sectionHeading
                stack.append(Level(reading: reading, indent: shape.indent, unit: units.count))
                continuationIndent = nil
                units.append(Clause(kind: .clause, number: number.label, lead: shape.lead, body: shape.rest(after: number.end),
                                    level: stack.count - 1, parent: parent))
            } else if let heading = HeadingRecognizer.recognize(shape),
                      paragraphStart || sentenceEnded
                        || (heading.isSection && heading.number != nil && previous?.endsWithReference != true
                            && previous.map { $0.width + 1 + shape.firstWordWidth <= wrapWidth } == true) {
                // `SCHEDULE 1` / `SERVICES` and `ARTICLE I` / `DEFINITIONS` are one unit in every layout;
                // any other heading line is a unit of its own.
                let numberOnly = current?.number != nil && current?.body.allSatisfy(\.isWhitespace) == true
                if numberOnly && !previousBlank && (afterHeading || heading.isTitle), let last = units.indices.last {
                    units[last].body += line
                } else {
                    if heading.isSection { stack.removeAll(); sectionHeading = units.count }
                    let parent = heading.isSection ? nil : sectionHeading
                    units.append(Clause(kind: .heading, number: heading.number, lead: shape.lead,
                                        body: shape.rest(after: heading.numberEnd), level: 0, parent: parent))
                }
            } else if current == nil || (current?.kind != .clause && (previousBlank || afterHeading || onePerLine)) {
                units.append(Clause(kind: .paragraph, number: nil, lead: "", body: String(line), level: 0, parent: sectionHeading))
            } else if let current, current.kind == .clause, previousBlank || onePerLine
                        || (sentenceEnded && (continuationIndent.map { shape.indent < $0 } ?? hanging))
                        || (sentenceEnded && previous.map { $0.width + 1 + shape.firstWordWidth < wrapWidth } == true)
                        || (sentenceEnded && !paragraphOpenings.isEmpty && openingKey(shape.content).map(paragraphOpenings.contains) == true),
                      shape.indent <= LineShape(Substring(current.lead)).indent {
                // A paragraph not indented under the clause (after a blank line, or after the clause's
                // last sentence when its wrapped lines hang deeper or when that sentence's line had
                // room for this line's first word): a unit of its own.
                units.append(Clause(kind: .paragraph, number: nil, lead: "", body: String(line), level: current.level + 1,
                                    parent: units.count - 1))
            } else {
                let last = units.count - 1
                if continuationIndent == nil { continuationIndent = shape.indent }
                units[last].body += units[last].separator + line
                units[last].separator = ""
            }
            previous = shape
            previousBlank = false
        }
        return units
    }

    /// If `number` starts a clause here, the reading chosen and the stack depth it replaces.
    ///
    /// Inside a paragraph a number starts a clause only when the line break before it is
    /// deliberate: the line before ended a sentence or list entry, or it had room for this line's
    /// first word (so the break is not wrapping) and the number continues its sequence at the
    /// sequence's indentation or is followed by a capital. `(30) days` or `(5) Business Days` at
    /// the start of a wrapped line therefore stay where they are.
    static func accept(_ number: ClauseNumber, shape: LineShape, stack: [Level], paragraphStart: Bool,
                       sentenceEnded: Bool, previous: LineShape?, wrapWidth: Int) -> (ClauseNumber.Reading, Int)? {
        let capital = shape.capitalAfterNumber(number)
        let hadRoom = previous.map { $0.width + 1 + shape.firstWordWidth <= wrapWidth } ?? true
        let reference = previous?.endsWithReference == true
        for reading in number.readings {
            guard let (popTo, sibling) = NumberingSequence.fit(reading, stack) else { continue }
            let weak = number.isBare || reading.isDotLetter
            if paragraphStart { return weak && !capital ? nil : (reading, popTo) }
            if reference { return nil }
            if weak { return sentenceEnded && capital ? (reading, popTo) : nil }
            let atSequenceIndent = sibling && stack[popTo].indent == shape.indent
            if sentenceEnded || (hadRoom && (capital || atSequenceIndent)) { return (reading, popTo) }
            return nil
        }
        // A number that continues no sequence starts a clause at the start of a paragraph, or
        // after a deliberate break when a capitalised word follows it.
        guard let reading = number.readings.first, !number.isBare, !reading.isDotLetter else { return nil }
        if paragraphStart || (!reference && capital && !shape.nothingAfter(number) && (sentenceEnded || hadRoom)) {
            return (reading, NumberingSequence.restartDepth(reading, stack))
        }
        return nil
    }

    /// The first six words of `text`, lower-cased (nil when it has fewer).
    static func openingKey<S: StringProtocol>(_ text: S) -> String? {
        var words: [String] = []
        var word = ""
        for c in text.unicodeScalars {
            if c.properties.isAlphabetic || (c.value >= 0x30 && c.value <= 0x39) {
                word.unicodeScalars.append(c)
            } else if !word.isEmpty {
                words.append(word.lowercased()); word = ""
                if words.count == 6 { break }
            }
        }
        if !word.isEmpty && words.count < 6 { words.append(word.lowercased()) }
        return words.count >= 6 ? words.prefix(6).joined(separator: " ") : nil
    }

    /// The opening keys of the un-numbered paragraphs among `units`.
    static func paragraphOpenings(_ units: [Clause]) -> Set<String> {
        Set(units.filter { $0.kind == .paragraph }.compactMap { openingKey($0.body) })
    }

    /// True when the text holds one paragraph per line (as extracted from a .docx): many lines
    /// longer than any wrapped line, so a line never continues the one before it.
    static func isOneParagraphPerLine(_ shapes: [LineShape]) -> Bool {
        var long = 0, nonBlank = 0
        for shape in shapes where !shape.isBlank {
            nonBlank += 1
            if shape.width > 110 { long += 1 }
        }
        return nonBlank > 0 && long * 5 >= nonBlank
    }

    /// True when the text wraps clauses with a hanging indent: the lines that follow a numbered
    /// line without a number of their own are nearly always indented deeper than it.
    static func wrapsWithHangingIndent(_ shapes: [LineShape]) -> Bool {
        var deeper = 0, pairs = 0
        for k in shapes.indices.dropLast() where shapes[k].number != nil && !shapes[k].isBlank {
            let next = shapes[k + 1]
            guard !next.isBlank, next.number == nil else { continue }
            pairs += 1
            if next.indent > shapes[k].indent { deeper += 1 }
        }
        return pairs >= 3 && deeper * 10 >= pairs * 8
    }

    /// Lines including their newline.
    static func lines(_ text: String) -> [Substring] {
        var out: [Substring] = []
        var start = text.startIndex
        let utf8 = text.utf8
        var i = utf8.startIndex
        while i < utf8.endIndex {
            if utf8[i] == 0x0A {
                let next = utf8.index(after: i)
                out.append(text[start..<next])
                start = next
            }
            i = utf8.index(after: i)
        }
        if start < text.endIndex { out.append(text[start...]) }
        return out
    }
}

extension ClauseNumber.Reading {
    /// `a.`, `A.`, `iv.`: easily the start of a wrapped name or sentence, so never enough on its own.
    var isDotLetter: Bool {
        if case .list(let s) = style { return s.punctuation == UInt8(ascii: ".") }
        return false
    }
}

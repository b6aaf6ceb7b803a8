/// One piece of a parsed intent template (hassil syntax).
public indirect enum TemplatePart: Sendable, Equatable {
    /// A literal word, lower-cased.
    case word(String)
    /// `(a|b)` (required) or `[a|b]` (optional): a choice between sequences.
    case choice([[TemplatePart]], optional: Bool)
    /// `{name}`: one of the slot's values.
    case slot(String)
}

/// A template that could not be parsed or refers to something unknown.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The intent the template belongs to.
    public var intent: String
    /// The template text.
    public var template: String
    /// The character offset (0-based) where the problem is.
    public var position: Int
    /// What is wrong.
    public var reason: String

    public var description: String {
        "intent '\(intent)', template \"\(template)\", position \(position): \(reason)"
    }
}

/// Parses hassil-style templates: words, `(a|b)` alternatives, `[optional words]` and `{slot}` references.
public enum TemplateParser {
    /// Parses `text`; `knownSlots` are the slot names that may be referenced.
    public static func parse(_ text: String, intent: String, knownSlots: Set<String>) throws(TemplateError) -> [TemplatePart] {
        var cursor = Cursor(chars: Array(text), intent: intent, template: text, knownSlots: knownSlots)
        let parts = try cursor.sequence(closing: nil)
        if cursor.index < cursor.chars.count {
            throw cursor.error("unexpected '\(cursor.chars[cursor.index])'")
        }
        if !parts.contains(where: { $0.canSpeakSomething }) {
            throw TemplateError(intent: intent, template: text, position: 0, reason: "the template has no words to say")
        }
        return parts
    }

    private struct Cursor {
        let chars: [Character]
        var index = 0
        let intent: String
        let template: String
        let knownSlots: Set<String>

        init(chars: [Character], intent: String, template: String, knownSlots: Set<String>) {
            self.chars = chars
            self.intent = intent
            self.template = template
            self.knownSlots = knownSlots
        }

        func error(_ reason: String, at position: Int? = nil) -> TemplateError {
            TemplateError(intent: intent, template: template, position: position ?? index, reason: reason)
        }

        /// Reads parts up to `closing` (not consumed) or the end; `|` also ends a sequence inside a group.
        mutating func sequence(closing: Character?) throws(TemplateError) -> [TemplatePart] {
            var parts: [TemplatePart] = []
            while index < chars.count {
                let c = chars[index]
                if c == " " || c == "\t" || c == "," || c == "." || c == "?" || c == "!" { index += 1; continue }
                if c == "|" || c == ")" || c == "]" {
                    if closing == nil { throw error("unexpected '\(c)' outside a group") }
                    return parts
                }
                if c == "(" || c == "[" {
                    let start = index
                    index += 1
                    let close: Character = c == "(" ? ")" : "]"
                    var alternatives: [[TemplatePart]] = []
                    while true {
                        let alternative = try sequence(closing: close)
                        guard index < chars.count else { throw error("'\(c)' opened here is never closed", at: start) }
                        if c == "(" && alternative.isEmpty { throw error("empty alternative in '('") }
                        alternatives.append(alternative)
                        let next = chars[index]
                        index += 1
                        if next == "|" { continue }
                        if next != close { throw error("'\(c)' opened at \(start) closed by '\(next)'", at: index - 1) }
                        break
                    }
                    parts.append(.choice(alternatives, optional: c == "["))
                    continue
                }
                if c == "{" {
                    let start = index
                    index += 1
                    var name = ""
                    while index < chars.count, chars[index] != "}" {
                        name.append(chars[index])
                        index += 1
                    }
                    guard index < chars.count else { throw error("'{' opened here is never closed", at: start) }
                    index += 1
                    let trimmed = name.trimmingSpaces
                    if trimmed.isEmpty { throw error("empty slot name", at: start) }
                    guard knownSlots.contains(trimmed) else { throw error("unknown slot '\(trimmed)'", at: start) }
                    parts.append(.slot(trimmed))
                    continue
                }
                if c == "}" { throw error("'}' without '{'") }
                guard c.isLetter || c.isNumber || c == "'" || c == "-" else { throw error("unexpected character '\(c)'") }
                var word = ""
                while index < chars.count, chars[index].isLetter || chars[index].isNumber || chars[index] == "'" || chars[index] == "-" {
                    word.append(chars[index])
                    index += 1
                }
                parts.append(.word(word.lowercased()))
            }
            return parts
        }
    }
}

extension TemplatePart {
    /// Whether some path through this part says at least one word.
    var canSpeakSomething: Bool {
        switch self {
        case .word, .slot: return true
        case .choice(let alternatives, _): return alternatives.contains { $0.contains { $0.canSpeakSomething } }
        }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// A unit of a contract as a reader sees it: a numbered clause, a heading that is not a clause
/// (`Schedule 1 - ...`, `IN WITNESS WHEREOF`, a signature block), or an un-numbered paragraph.
///
/// The blank lines after a unit are its ``separator``: they belong to the layout, not to the text,
/// and are never compared. Concatenating the ``text`` of every unit gives back the document.
public struct Clause: Codable, Sendable, Equatable {
    /// What kind of unit this is.
    public enum Kind: String, Codable, Sendable {
        /// A numbered clause or list item (`1.`, `9.1`, `(a)`, `Article 5`, `§ 3`).
        case clause
        /// A heading that is not a numbered clause: schedules, annexes, all-capitals titles,
        /// execution and signature blocks.
        case heading
        /// An un-numbered paragraph that belongs to no clause (the preamble, text under a heading).
        case paragraph
    }

    /// The kind of unit.
    public var kind: Kind
    /// The clause number as written (`1.`, `1.1`, `(a)`, `Article 3`, `Schedule 1`); nil when un-numbered.
    public var number: String?
    /// Text before the number on the first line (indentation).
    public var lead: String
    /// Text after the number up to the last non-blank line (includes that line's newline).
    public var body: String
    /// The blank lines that follow the unit (layout, never compared).
    public var separator: String
    /// Nesting depth: 0 for top-level clauses, headings and paragraphs, 1 for `1.1` or `(a)` under `1.`, ...
    public var level: Int
    /// Index of the enclosing unit (the clause this one is a sub-clause of, or the heading it sits under).
    public var parent: Int?

    /// The unit's full text, exactly as in the document (separator included).
    public var text: String { lead + (number ?? "") + body + separator }

    /// The unit's text without its separator.
    public var content: String { lead + (number ?? "") + body }

    /// Creates a unit.
    public init(kind: Kind = .clause, number: String?, lead: String, body: String, separator: String = "",
                level: Int = 0, parent: Int? = nil) {
        self.kind = number == nil && kind == .clause ? .paragraph : kind
        self.number = number
        self.lead = lead
        self.body = body
        self.separator = separator
        self.level = level
        self.parent = parent
    }
}

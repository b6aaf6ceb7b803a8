extension IntentGrammar {
    /// The grammar in JSGF, as PocketSphinx's `ps_set_jsgf_string` reads it: one rule per intent,
    /// one per slot, and a public rule choosing between the intents.
    public var jsgf: String {
        var lines = ["#JSGF V1.0;", "grammar plexus;"]
        lines.append("public <utterance> = " + templates.indices.map { "<intent\($0)>" }.joined(separator: " | ") + ";")
        for (index, intentTemplates) in templates.enumerated() {
            let body = intentTemplates.map { "( " + Self.jsgf($0, slotRules: slotRuleNames) + " )" }.joined(separator: " | ")
            lines.append("<intent\(index)> = \(body);")
        }
        for (name, rule) in slotRuleNames.sorted(by: { $0.key < $1.key }) {
            let body = (slotPhrases[name] ?? []).map { "( " + $0.joined(separator: " ") + " )" }.joined(separator: " | ")
            lines.append("<\(rule)> = \(body);")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Slot name to its JSGF rule name (slot names are checked to be letters, digits and `_`).
    var slotRuleNames: [String: String] {
        Dictionary(uniqueKeysWithValues: slotPhrases.keys.map { ($0, "slot_\($0)") })
    }

    private static func jsgf(_ parts: [TemplatePart], slotRules: [String: String]) -> String {
        parts.map { part -> String in
            switch part {
            case .word(let w): return w
            case .slot(let name): return "<\(slotRules[name] ?? name)>"
            case .choice(let alternatives, let optional):
                let nonEmpty = alternatives.filter { !$0.isEmpty }
                let inner = nonEmpty.map { jsgf($0, slotRules: slotRules) }.joined(separator: " | ")
                if nonEmpty.isEmpty { return "" }
                return optional || nonEmpty.count < alternatives.count ? "[ \(inner) ]" : "( \(inner) )"
            }
        }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}

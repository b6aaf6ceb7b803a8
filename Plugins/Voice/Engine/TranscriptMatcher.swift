extension IntentGrammar {
    /// Matches a transcript against the intents in order, with the same parsed templates the JSGF grammar
    /// came from; nil when no template produces exactly these words.
    public func match(_ transcript: String) -> IntentMatch? {
        let words = Self.words(of: transcript)
        guard !words.isEmpty else { return nil }
        for (index, intentTemplates) in templates.enumerated() {
            for parts in intentTemplates {
                if let slots = matchSequence(parts[...], words: words[...], filled: []) {
                    return IntentMatch(intentIndex: index, intent: configuration.intents[index].name, slots: slots)
                }
            }
        }
        return nil
    }

    /// Backtracking match of `parts` against all of `words`; returns the slots filled on success.
    private func matchSequence(_ parts: ArraySlice<TemplatePart>, words: ArraySlice<String>, filled: [FilledSlot]) -> [FilledSlot]? {
        guard let first = parts.first else { return words.isEmpty ? filled : nil }
        let rest = parts.dropFirst()
        switch first {
        case .word(let w):
            guard words.first == w else { return nil }
            return matchSequence(rest, words: words.dropFirst(), filled: filled)
        case .slot(let name):
            let values = configuration.slots[name] ?? []
            for (phrase, value) in zip(slotPhrases[name] ?? [], values) where words.starts(with: phrase) {
                if let done = matchSequence(rest, words: words.dropFirst(phrase.count), filled: filled + [FilledSlot(name: name, value: value)]) {
                    return done
                }
            }
            return nil
        case .choice(let alternatives, let optional):
            for alternative in alternatives {
                if let done = matchSequence(ArraySlice(alternative + rest), words: words, filled: filled) { return done }
            }
            return optional ? matchSequence(rest, words: words, filled: filled) : nil
        }
    }

    /// The first sentence each template can say (first alternative, optional parts left out, first slot value):
    /// what the self-test speaks.
    public func firstSentences() -> [(intent: String, sentence: String)] {
        var out: [(String, String)] = []
        for (index, intentTemplates) in templates.enumerated() {
            for parts in intentTemplates {
                out.append((configuration.intents[index].name, firstWords(parts).joined(separator: " ")))
            }
        }
        return out
    }

    private func firstWords(_ parts: [TemplatePart]) -> [String] {
        parts.flatMap { part -> [String] in
            switch part {
            case .word(let w): return [w]
            case .slot(let name): return slotPhrases[name]?.first ?? []
            case .choice(let alternatives, let optional): return optional ? [] : firstWords(alternatives.first ?? [])
            }
        }
    }
}

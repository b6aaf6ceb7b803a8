/// Words near a candidate that make it more or less likely to be what it looks like
/// (Presidio's context words): "phone:" before a number raises it, "order no." lowers it.
struct ContextLexicon: Sendable {
    /// Cues that support the entity type (lower case; matched at the start of a word).
    var positive: [StaticString]
    /// Cues that point to something else (order numbers, versions, ISBNs, …).
    var negative: [StaticString]
    /// Cues that support the type only when nothing contrary is near ("number" in "order number").
    var weak: [StaticString] = []
}

/// What the words around a candidate say.
struct ContextCue {
    /// Distance in bytes from the candidate to the nearest supporting cue (nil: none).
    var positive: Int?
    /// Distance to the nearest contrary cue (nil: none).
    var negative: Int?
    /// Distance to the nearest weak supporting cue (nil: none).
    var weak: Int?

    /// +1 when the nearest cue supports, -1 when it contradicts, 0 without cues; a weak cue
    /// supports only when no contrary cue is in the window.
    var verdict: Int {
        switch (positive, negative) {
        case (nil, nil): weak == nil ? 0 : 1
        case (nil, .some): -1
        case (.some, nil): 1
        case let (.some(p), .some(n)): p <= n ? 1 : -1
        }
    }
}

/// Finds context cues in a window around a candidate, on the raw bytes (no copy).
enum ContextWindow {
    /// Looks `before` bytes back from `start` and `after` bytes on from `end` (cues after the
    /// candidate count as twice as far away: labels usually precede values).
    static func cue(_ bytes: Bytes, start: Int, end: Int, lexicon: ContextLexicon,
                    before: Int = 56, after: Int = 24) -> ContextCue {
        var cue = ContextCue()
        let from = max(0, start - before)
        var p = start - 1
        // Walk word starts backwards from the candidate so the first hit of a kind is the nearest.
        while p >= from {
            if ASCII.isLetter(bytes[p]) && (p == 0 || !ASCII.isLetter(bytes[p - 1])) {
                let distance = start - p
                if cue.positive == nil, matches(bytes, p, lexicon.positive) { cue.positive = distance }
                if cue.negative == nil, matches(bytes, p, lexicon.negative) { cue.negative = distance }
                if cue.weak == nil, matches(bytes, p, lexicon.weak) { cue.weak = distance }
                if cue.positive != nil && cue.negative != nil { return cue }
            }
            p -= 1
        }
        let to = min(bytes.count, end + after)
        var q = end
        while q < to {
            if ASCII.isLetter(bytes[q]) && (q == 0 || !ASCII.isLetter(bytes[q - 1])) {
                let distance = (q - end) * 2 + 8
                if cue.positive == nil || distance < cue.positive!, matches(bytes, q, lexicon.positive) { cue.positive = distance }
                if cue.negative == nil || distance < cue.negative!, matches(bytes, q, lexicon.negative) { cue.negative = distance }
                if cue.weak == nil, matches(bytes, q, lexicon.weak) { cue.weak = distance }
            }
            q += 1
        }
        return cue
    }

    /// Whether one of `words` starts at `p` (case-insensitive).
    private static func matches(_ bytes: Bytes, _ p: Int, _ words: [StaticString]) -> Bool {
        for word in words where bytes.hasPrefixFolded(word, at: p) { return true }
        return false
    }

    /// Whether the word (letters only) directly before `start`, skipping spaces and `:#.`, is one of `words`.
    static func wordBefore(_ bytes: Bytes, _ start: Int, in words: [StaticString]) -> Bool {
        var p = start - 1
        while p >= 0 && (bytes[p] == 0x20 || bytes[p] == 0x3A || bytes[p] == 0x23 || bytes[p] == 0x2E) && start - p < 6 { p -= 1 }
        var s = p
        while s >= 0 && ASCII.isLetter(bytes[s]) { s -= 1 }
        s += 1
        guard s <= p else { return false }
        return matches(bytes, s, words)
    }
}

/// The context words of each entity type.
enum Lexicons {
    /// Words that say "this is an identifier of something else" for any numeric candidate.
    static let numericNegatives: [StaticString] = [
        "order", "invoice", "inv", "ref", "tracking", "shipment", "parcel", "isbn", "issn", "sku", "part no", "serial",
        "ticket", "case", "matter", "claim no", "file no", "docket", "po ", "p.o.", "purchase", "transaction id", "txn", "confirmation", "booking",
        "receipt", "version", "build", "release", "firmware", "patch", "product code", "item", "batch", "lot ",
        "member id", "customer id", "policy no", "policy number", "claim", "reservation",
    ]

    static let phone = ContextLexicon(
        positive: ["phone", "tel", "call", "mobile", "mob", "cell", "fax", "reach", "ring", "whatsapp", "sms",
                   "text me", "text him", "text her", "dial", "hotline", "landline", "telefon", "tél", "appel",
                   "portable", "handy", "móvil", "cellulare", "ph:", "ph.", "m:", "t:", "switchboard", "voicemail", "ruf"],
        negative: numericNegatives + ["account", "acct", "iban", "routing", "sort code", "card", "ssn", "social security", "id:", "id ", "zip",
                                      "postcode", "amount", "total", "usd", "eur"],
        weak: ["number", "no.", "nr", "contact", "direct", "office", "on ", "at "])

    static let ssn = ContextLexicon(
        positive: ["ssn", "social security", "social sec", "ss#", "ss #", "ss no", "soc sec", "taxpayer", "tin", "itin", "ssa"],
        negative: numericNegatives + ["phone", "tel", "fax", "mobile", "call", "account", "routing", "zip", "card"])

    static let card = ContextLexicon(
        positive: ["card", "credit", "debit", "visa", "mastercard", "master card", "amex", "american express", "discover",
                   "diners", "jcb", "unionpay", "maestro", "cc", "pan", "payment", "charged", "billing", "paid with", "kreditkarte", "carte"],
        negative: numericNegatives + ["account", "acct", "iban", "phone", "tel", "imei", "gift card no"])

    static let ip = ContextLexicon(
        positive: ["ip", "address", "addr", "host", "server", "client", "from", "source", "src", "dst", "destination",
                   "gateway", "dns", "subnet", "router", "connect", "login", "logged", "remote", "peer", "proxy", "vpn", "firewall",
                   "ping", "inet", "allow", "block", "origin", "requests", "traffic"],
        negative: ["version", "ver", "v.", "release", "build", "firmware", "update", "upgrade", "sdk", "patch", "rev",
                   "section", "clause", "article", "paragraph", "chapter", "oid", "snmp", "isbn", "figure", "table", "step"])

    static let birth = ContextLexicon(
        positive: ["born", "birth", "dob", "d.o.b", "b.", "birthday", "bday", "née", "né ", "nee ", "geboren", "geb.", "geburt",
                   "naissance", "nacimiento", "nascita", "aged"],
        negative: [])

    static let url = ContextLexicon(positive: ["url", "link", "website", "site", "visit", "see", "http", "web", "page", "go to"],
                                    negative: ["file", "filename", "attachment", "attached", "module", "package", "class"])
}

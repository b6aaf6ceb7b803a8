/// Finds personal data in UTF-8 text in one left-to-right pass over the bytes.
///
/// Each byte is looked at once by the main loop; recognisers run only at their trigger bytes
/// (`@`, `:`, a digit, `+` or `(` at a token start, a letter at a word start, a `.` inside a
/// word) and each reads a bounded stretch, so the scan is linear in the text's length.
/// Candidates come back with their scores, low ones included; ``Recognition`` applies a
/// threshold and settles overlaps.
public enum PIIScanner {
    /// Every candidate in `bytes` of a type in `types`, in byte offsets.
    public static func candidates(_ bytes: Bytes, types: Set<EntityType> = Set(EntityType.allCases)) -> [ByteMatch] {
        var out: [ByteMatch] = []
        let n = bytes.count
        let wantNumbers = types.contains(.phone) || types.contains(.usSSN) || types.contains(.creditCard) || types.contains(.dateOfBirth)
        let wantURL = types.contains(.url)
        let wantEmail = types.contains(.email), wantIP = types.contains(.ipAddress), wantIBAN = types.contains(.iban)
        let wantBirth = types.contains(.dateOfBirth)
        var i = 0
        var skipUntil = 0             // bytes already read as part of a token
        while i < n {
            let b = bytes[i]
            if i < skipUntil { i += 1; continue }
            let previous = i > 0 ? bytes[i - 1] : 0x20
            let wordStart = !ASCII.isWordByte(previous)
            if b == 0x40 {
                if wantEmail, let match = EmailRecognizer.match(bytes, at: i) { out.append(match); skipUntil = match.end }
            } else if ASCII.isDigit(b) || ((b == 0x2B || b == 0x28) && ASCII.isDigit(bytes.at(i + 1) == 0x28 ? bytes.at(i + 2) : bytes.at(i + 1)))
                        || (b == 0x28 && bytes.at(i + 1) == 0x2B && ASCII.isDigit(bytes.at(i + 2))) {
                // Not inside a longer token: after '.', '-', '/', '$', '_' or a thousands comma ("1,234"); a comma
                // after a letter (CSV: "…com,555-123-4567") is a field separator.
                let commaInNumber = previous == 0x2C && ASCII.isDigit(bytes.at(i - 2))
                if wordStart && previous != 0x2E && previous != 0x2D && previous != 0x2F && previous != 0x24 && !commaInNumber && previous != 0x5F {
                    if ASCII.isDigit(b), IPRecognizer.ipv4End(bytes, from: i) != nil {
                        if wantIP, let match = IPRecognizer.matchIPv4(bytes, at: i) { out.append(match) }
                        skipUntil = IPRecognizer.ipv4End(bytes, from: i)!
                    } else if ASCII.isDigit(b), let end = DateRules.dayFirst(bytes, at: i) {
                        if wantBirth {
                            let score = DateRules.birthScore(bytes, i, end)
                            if score > 0 { out.append(ByteMatch(type: .dateOfBirth, start: i, end: end, score: score)) }
                        }
                        skipUntil = end
                    } else if wantNumbers, !isCurrencyBefore(bytes, i), let run = NumberRun.read(bytes, at: i) {
                        NumberClassifier.classify(bytes, run, into: &out)
                        skipUntil = run.end
                    }
                }
                if ASCII.isDigit(b) && skipUntil <= i { while i + 1 < n && ASCII.isDigit(bytes[i + 1]) { i += 1 } }
            } else if b == 0x3A {
                if wantIP && (ASCII.isHex(bytes.at(i + 1)) || bytes.at(i + 1) == 0x3A) {
                    let (match, tokenEnd) = IPRecognizer.matchIPv6(bytes, colon: i)
                    if let match { out.append(match) }
                    skipUntil = tokenEnd
                }
            } else if ASCII.isLetter(b) && wordStart {
                if wantURL, let match = URLRecognizer.matchPrefixed(bytes, at: i) {
                    out.append(match)
                    skipUntil = match.end
                } else if ASCII.isUpper(b), wantIBAN, let match = IBANRecognizer.match(bytes, at: i) {
                    out.append(match)
                    skipUntil = match.end
                } else if wantBirth, let end = DateRules.monthFirst(bytes, at: i) {
                    let score = DateRules.birthScore(bytes, i, end)
                    if score > 0 { out.append(ByteMatch(type: .dateOfBirth, start: i, end: end, score: score)) }
                    skipUntil = end
                }
            } else if b == 0x2E && wantURL && ASCII.isLower(bytes.at(i + 1)) && ASCII.isAlnum(previous) {
                if let match = URLRecognizer.matchBare(bytes, dot: i) {
                    // A bare domain that is the tail of an address found already is not a second entity.
                    if !(out.last.map { $0.end >= match.end && $0.start <= match.start } ?? false) {
                        out.append(match)
                        skipUntil = match.end
                    }
                }
            }
            i += 1
        }
        return out
    }

    /// Whether a currency sign or code stands right before `i` (`$1,234`, `€ 250`, `EUR 100`).
    static func isCurrencyBefore(_ bytes: Bytes, _ i: Int) -> Bool {
        var p = i - 1
        if bytes.at(p) == 0x20 { p -= 1 }
        let b = bytes.at(p)
        if b == 0x24 { return true }
        if b == 0xAC && bytes.at(p - 1) == 0x82 && bytes.at(p - 2) == 0xE2 { return true }   // €
        if b == 0xA3 && bytes.at(p - 1) == 0xC2 { return true }                              // £
        return false
    }
}

/// Turns scanner candidates into entities: a threshold, then overlaps settled.
public enum Recognition {
    /// Candidates at or above `threshold`, without overlaps: of two overlapping candidates the
    /// higher score wins, then the longer one. Sorted by start.
    public static func resolve(_ candidates: [ByteMatch], threshold: Double) -> [ByteMatch] {
        let kept = candidates.filter { $0.score >= threshold }.sorted { ($0.start, -$0.end) < ($1.start, -$1.end) }
        var out: [ByteMatch] = []
        for match in kept {
            if let last = out.last, match.start < last.end {
                let better = match.score > last.score || (match.score == last.score && match.end - match.start > last.end - last.start)
                if better { out[out.count - 1] = match }
                continue
            }
            out.append(match)
        }
        return out
    }
}

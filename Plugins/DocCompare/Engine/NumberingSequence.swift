/// The numbering sequences a clause number can continue: `(b)` after `(a)`, `9.2` after `9.1`,
/// `10` or `10.1` after `9.3`, `9.1.1` under `9.1`, the first item `(a)`/`(i)`/`(1)` of a new list.
enum NumberingSequence {
    /// If `reading` continues `stack`, the depth it replaces (levels from there on are closed) and
    /// whether it is a sibling of the open level at that depth (rather than a new level).
    static func fit(_ reading: ClauseNumber.Reading, _ stack: [ClauseSplitter.Level]) -> (Int, Bool)? {
        for i in stack.indices.reversed() {
            // `1.1` under `Clause 1` or `Article 1`, `Section 1.1` under `ARTICLE I`: a child across styles.
            if stack[i].reading.style != reading.style {
                let p = stack[i].reading.path, t = reading.path
                if reading.isNumeric && stack[i].reading.isNumeric && t.count == p.count + 1 && Array(t.prefix(p.count)) == p && t.last == 1 {
                    return (i + 1, false)
                }
                continue
            }
            let p = stack[i].reading.path, t = reading.path
            if t.count == p.count + 1 && Array(t.prefix(p.count)) == p && t.last == 1 { return (i + 1, false) }
            for d in stride(from: p.count, through: 1, by: -1) where t.count >= d {
                if Array(t.prefix(d - 1)) == Array(p.prefix(d - 1)) && t[d - 1] == p[d - 1] + 1 && t.dropFirst(d).allSatisfy({ $0 == 1 }) {
                    // Close every level of this style that is at least `d` deep.
                    let target = stack.firstIndex { $0.reading.style == reading.style && $0.reading.path.count >= d } ?? i
                    return (target, true)
                }
            }
            if case .decimal = reading.style { break }
            if case .keyword = reading.style { break }
        }
        if reading.path.allSatisfy({ $0 == 1 }) { return (restartDepth(reading, stack), false) }
        return nil
    }

    /// Where a number that starts its sequence afresh goes: in place of an open level of the same
    /// style (a list restarting under a new clause), else one level deeper than everything open.
    static func restartDepth(_ reading: ClauseNumber.Reading, _ stack: [ClauseSplitter.Level]) -> Int {
        if let i = stack.lastIndex(where: { $0.reading.style == reading.style }) { return i }
        return stack.count
    }
}

extension ClauseNumber.Reading {
    /// Decimal and keyword numbers: their paths nest across styles (`Clause 1` → `1.1`).
    var isNumeric: Bool {
        switch style {
        case .decimal, .keyword: return true
        case .list: return false
        }
    }
}

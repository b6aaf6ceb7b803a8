/// Pairs the units of two versions of a contract: by content first, then by structure.
///
/// 1. Units with the same words (layout and number aside) are paired, in order.
/// 2. The rest are scored by ordered word similarity (longest common subsequence of the content
///    words), with a bonus when the structure agrees: same kind and level, parents paired with
///    each other, neighbours paired with each other. A pair needs a similarity of 0.8 anywhere (0.7 at the
///    same kind and level), of `threshold` where the structure agrees, a little less between
///    paired neighbours.
///    A pair of the same kind and level under those bars is still paired when its whole words
///    (function words included) are nearly all the same, in order (0.8), and at most six
///    differ: a short clause moved and edited in a few words.
/// 3. In a gap between paired units that holds exactly one unit on each side, the two are paired
///    when they have the same number (or none) and nearly enough words: an edited clause in its place.
///
/// Anything else stays unpaired: added and deleted clauses are reported as such.
struct ClauseAligner {
    let old: [Clause], new: [Clause]
    let oldWords: [[Int32]], newWords: [[Int32]]
    /// Words similarity is measured on (no punctuation, no function words).
    let oldContent: [[Int32]], newContent: [[Int32]]
    let threshold: Double

    /// Old index per new index (nil: added), and the similarity of each pair.
    func align() -> (oldOfNew: [Int?], similarity: [Double]) {
        var oldOfNew = [Int?](repeating: nil, count: new.count)
        var newOfOld = [Int?](repeating: nil, count: old.count)
        var similarity = [Double](repeating: 0, count: new.count)
        func pair(_ i: Int, _ j: Int, _ s: Double) { oldOfNew[j] = i; newOfOld[i] = j; similarity[j] = s }

        // 1. Same words.
        var byWords: [[Int32]: [Int]] = [:]
        for i in old.indices.reversed() where !oldWords[i].isEmpty { byWords[oldWords[i], default: []].append(i) }
        for j in new.indices where !newWords[j].isEmpty {
            guard var list = byWords[newWords[j]], !list.isEmpty else { continue }
            // Prefer the candidate of the same kind; the lists are short.
            let pick = list.lastIndex { old[$0].kind == new[j].kind } ?? list.count - 1
            let i = list.remove(at: pick)
            byWords[newWords[j]] = list
            pair(i, j, 1)
        }

        // 2. Similar words, structure as tie-breaker and support.
        let restOld = old.indices.filter { newOfOld[$0] == nil && !oldContent[$0].isEmpty }
        let restNew = new.indices.filter { oldOfNew[$0] == nil && !newContent[$0].isEmpty }
        var candidates: [(i: Int, j: Int, sim: Double, score: Double)] = []
        let sortedOld = oldContent.map { $0.sorted() }, sortedNew = newContent.map { $0.sorted() }
        let pairsOld = oldContent.map(WordSimilarity.sortedBigrams), pairsNew = newContent.map(WordSimilarity.sortedBigrams)
        if !restOld.isEmpty && !restNew.isEmpty && restOld.count * restNew.count <= 2_000_000 {
            for j in restNew {
                for i in restOld {
                    let a = oldContent[i], b = newContent[j]
                    let lo = min(a.count, b.count), hi = max(a.count, b.count)
                    if 2 * Double(lo) / Double(lo + hi) < threshold - 0.15 { continue }
                    if WordSimilarity.bag(sorted: sortedOld[i], sortedNew[j]) < threshold - 0.15 { continue }
                    // Word order: an edited clause keeps most of its word pairs, an unrelated one
                    // written with the same vocabulary does not (and would cost Myers its worst case).
                    if min(a.count, b.count) > 24 && WordSimilarity.bag(sorted: pairsOld[i], pairsNew[j]) < 0.2 { continue }
                    let sim = WordSimilarity.ordered(a, b).similarity
                    if sim < threshold - 0.15 { continue }
                    candidates.append((i, j, sim, sim + structureBonus(i, j, oldOfNew: oldOfNew)))
                }
            }
        }
        candidates.sort { $0.score != $1.score ? $0.score > $1.score : ($0.j, $0.i) < ($1.j, $1.i) }
        // Near-identical pairs first, wherever they are; then similar pairs the structure agrees
        // with (same level, and parents or neighbours paired with each other); then weaker pairs
        // between paired neighbours.
        for c in candidates where c.sim >= 0.7 && oldOfNew[c.j] == nil && newOfOld[c.i] == nil {
            if c.sim >= 0.8 || (old[c.i].kind == new[c.j].kind && old[c.i].level == new[c.j].level) { pair(c.i, c.j, c.sim) }
        }
        for c in candidates where c.sim >= threshold && oldOfNew[c.j] == nil && newOfOld[c.i] == nil {
            if structureAgrees(c.i, c.j, oldOfNew: oldOfNew) { pair(c.i, c.j, c.sim) }
        }
        for c in candidates where c.sim < threshold && oldOfNew[c.j] == nil && newOfOld[c.i] == nil {
            guard c.sim >= weakThreshold(c.i, c.j) else { continue }
            if neighboursAgree(c.i, c.j, oldOfNew: oldOfNew) && old[c.i].kind == new[c.j].kind && old[c.i].level == new[c.j].level {
                pair(c.i, c.j, c.sim)
            }
        }
        // A clause moved and edited in a few words, with no paired neighbour or parent to vouch
        // for it: in a short clause each edited content word weighs a lot (3 edits of a
        // 14-word sentence leave 4 of 6 content words in order), so the content similarity
        // alone falls under the bar. The whole sentence, function words included, still reads
        // as the same one: pair it when nearly all of its words are the same, in order, and
        // the words that differ are few (three replaced at most). Two different clauses that
        // share a boilerplate tail ("between 9.00 a.m. and 5.00 p.m. on any Business Day")
        // differ in their subject, verb and ending: more words than that.
        for c in candidates where c.sim < 0.7 && oldOfNew[c.j] == nil && newOfOld[c.i] == nil {
            guard old[c.i].kind == new[c.j].kind, old[c.i].level == new[c.j].level else { continue }
            let a = oldWords[c.i], b = newWords[c.j]
            let whole = WordSimilarity.ordered(a, b).similarity
            let differing = Int(((1 - whole) * Double(a.count + b.count)).rounded())
            if whole >= 0.8 && differing <= Self.fewWordsDiffering { pair(c.i, c.j, c.sim) }
        }

        // 3. One-for-one gaps: a clause rewritten in place keeps its number.
        var lastI = -1, lastJ = -1
        for j in 0...new.count {
            let i = j < new.count ? oldOfNew[j] : old.count
            guard let i else { continue }
            if i > lastI && j - lastJ == 2 && i - lastI == 2 {
                let gi = lastI + 1, gj = lastJ + 1
                if newOfOld[gi] == nil && oldOfNew[gj] == nil && old[gi].kind == new[gj].kind {
                    let sim = WordSimilarity.ordered(oldContent[gi], newContent[gj]).similarity
                    let sameNumber = old[gi].number == new[gj].number
                    let bothEmpty = oldWords[gi].isEmpty && newWords[gj].isEmpty
                    if bothEmpty || (sameNumber && sim >= weakThreshold(gi, gj)) { pair(gi, gj, sim) }
                }
            }
            if i > lastI { lastI = i; lastJ = j }
        }
        return (oldOfNew, similarity)
    }

    /// Words (deleted plus inserted) by which a moved clause may differ and still be paired on
    /// its whole words: three replaced words.
    static let fewWordsDiffering = 6

    /// The similarity a pair needs between paired neighbours: a little under `threshold`, lower
    /// for short units (six content words or fewer), where one edited word weighs a lot.
    func weakThreshold(_ i: Int, _ j: Int) -> Double {
        min(oldContent[i].count, newContent[j].count) <= 6 ? threshold - 0.2 : threshold - 0.05
    }

    /// Up to 0.3 for agreeing structure: kind, level, paired parents, paired neighbours.
    func structureBonus(_ i: Int, _ j: Int, oldOfNew: [Int?]) -> Double {
        var bonus = 0.0
        if old[i].kind == new[j].kind { bonus += 0.05 }
        if old[i].level == new[j].level { bonus += 0.05 }
        if let po = old[i].parent, let pn = new[j].parent, oldOfNew[pn] == po { bonus += 0.1 }
        if neighboursAgree(i, j, oldOfNew: oldOfNew) { bonus += 0.1 }
        return bonus
    }

    /// Same kind and level, and the parents or the neighbours are paired with each other.
    func structureAgrees(_ i: Int, _ j: Int, oldOfNew: [Int?]) -> Bool {
        guard old[i].kind == new[j].kind, old[i].level == new[j].level else { return false }
        if let po = old[i].parent, let pn = new[j].parent, oldOfNew[pn] == po { return true }
        return neighboursAgree(i, j, oldOfNew: oldOfNew)
    }

    /// True when the units before, or after, `i` and `j` are paired with each other.
    func neighboursAgree(_ i: Int, _ j: Int, oldOfNew: [Int?]) -> Bool {
        let before = (i == 0 && j == 0) || (i > 0 && j > 0 && oldOfNew[j - 1] == i - 1)
        let after = (i == old.count - 1 && j == new.count - 1) || (j + 1 < new.count && oldOfNew[j + 1] == i + 1)
        return before || after
    }
}

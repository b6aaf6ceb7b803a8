/// Renders line diffs in the unified format that GNU `patch` applies.
public enum UnifiedDiff {
    /// A unified diff of `result` (which must use line granularity; other granularities are
    /// re-diffed by line). Returns an empty string when the texts are equal.
    ///
    /// - Parameters:
    ///   - oldLabel: name printed after `---` (default `a`).
    ///   - newLabel: name printed after `+++` (default `b`).
    ///   - context: lines of context around each change (default 3).
    public static func render(_ result: DiffResult, oldLabel: String = "a", newLabel: String = "b", context: Int = 3) -> String {
        var r = result
        if r.options.granularity != .line {
            var o = r.options
            o.granularity = .line
            o.detectMoves = false
            r = DocDiff.diff(old: result.old.bytes, new: result.new.bytes, options: o)
        }
        return renderLines(old: r.old, new: r.new, ops: r.ops, oldLabel: oldLabel, newLabel: newLabel, context: context)
    }

    /// A unified diff of two strings, computed with `options` forced to line granularity.
    public static func diff(_ old: String, _ new: String, options: DiffOptions = DiffOptions(detectMoves: false),
                            oldLabel: String = "a", newLabel: String = "b", context: Int = 3) -> String {
        var o = options
        o.granularity = .line
        return render(DocDiff.diff(old, new, options: o), oldLabel: oldLabel, newLabel: newLabel, context: context)
    }

    struct Region { var oldLo: Int; var oldHi: Int; var newLo: Int; var newHi: Int }

    static func renderLines(old: TokenizedText, new: TokenizedText, ops: [DiffOp],
                            oldLabel: String, newLabel: String, context: Int) -> String {
        // Change regions: maximal runs of non-equal ops.
        var regions: [Region] = []
        for op in ops where op.kind != .equal {
            let lo = op.oldRange.lowerBound, nlo = op.newRange.lowerBound
            if let last = regions.last, last.oldHi == lo && last.newHi == nlo {
                regions[regions.count - 1].oldHi = op.oldRange.upperBound
                regions[regions.count - 1].newHi = op.newRange.upperBound
            } else {
                regions.append(Region(oldLo: lo, oldHi: op.oldRange.upperBound, newLo: nlo, newHi: op.newRange.upperBound))
            }
        }
        if regions.isEmpty { return "" }
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        out.append(contentsOf: "--- \(oldLabel)\n+++ \(newLabel)\n".utf8)

        func line(_ text: TokenizedText, _ i: Int, _ prefix: UInt8) {
            out.append(prefix)
            let lo = text.bounds[i], hi = text.bounds[i + 1]
            out.append(contentsOf: text.bytes.slice(lo..<hi))
            if hi == lo || text.bytes[hi - 1] != 0x0A {
                out.append(contentsOf: "\n\\ No newline at end of file\n".utf8)
            }
        }
        func range(_ lo: Int, _ hi: Int) -> String {
            let count = hi - lo
            if count == 0 { return "\(lo),0" }
            if count == 1 { return "\(lo + 1)" }
            return "\(lo + 1),\(count)"
        }

        var k = 0
        while k < regions.count {
            var e = k
            while e + 1 < regions.count && regions[e + 1].oldLo - regions[e].oldHi <= 2 * context { e += 1 }
            let first = regions[k], last = regions[e]
            let before = min(context, first.oldLo)
            let after = min(context, old.count - last.oldHi)
            let oLo = first.oldLo - before, oHi = last.oldHi + after
            let nLo = first.newLo - before, nHi = last.newHi + after
            out.append(contentsOf: "@@ -\(range(oLo, oHi)) +\(range(nLo, nHi)) @@\n".utf8)
            var pos = oLo
            for r in regions[k...e] {
                while pos < r.oldLo { line(old, pos, 0x20); pos += 1 }
                for i in r.oldLo..<r.oldHi { line(old, i, 0x2D) }
                for j in r.newLo..<r.newHi { line(new, j, 0x2B) }
                pos = r.oldHi
            }
            while pos < oHi { line(old, pos, 0x20); pos += 1 }
            k = e + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

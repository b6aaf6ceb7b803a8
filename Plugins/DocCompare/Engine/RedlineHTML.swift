/// Renders a `Redline` as a complete, self-contained HTML page, and resolves such a page
/// back to text ("accept all" / "reject all").
///
/// Every change is an element with `data-change="ins"` or `data-change="del"`; labels and
/// move arrows carry `data-annotation` and belong to neither text. Text is HTML-escaped and
/// shown with `white-space: pre-wrap`, so newlines in the content are the document's own.
public enum RedlineHTML {
    static let begin = "<!--docdiff:begin-->"
    static let end = "<!--docdiff:end-->"

    /// Escapes `&`, `<`, `>`, `"` and `'`.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// The full HTML document for a redline.
    public static func render(_ redline: Redline) -> String {
        var body = ""
        render(redline.segments, into: &body)
        let ins = redline.segments.filter { if case .insert = $0 { return true }; return false }.count
        let del = redline.segments.filter { if case .delete = $0 { return true }; return false }.count
        let moves = redline.segments.filter { if case .moveTo = $0 { return true }; return false }.count
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="DocDiff">
        <title>\(escape(redline.title))</title>
        <style>
        body { font-family: Georgia, 'Times New Roman', serif; margin: 2em auto; max-width: 52em; color: #222; line-height: 1.5; }
        header { font-family: system-ui, sans-serif; font-size: 0.9em; border-bottom: 1px solid #ccc; margin-bottom: 1em; }
        .redline { white-space: pre-wrap; word-wrap: break-word; }
        ins { background: #e6ffec; color: #055d20; text-decoration: underline; }
        del { background: #ffebe9; color: #82071e; text-decoration: line-through; }
        del.move-from { background: #fff8c5; color: #6b5200; text-decoration: line-through double; }
        ins.move-to { background: #ddf4ff; color: #0a3069; text-decoration: none; border-left: 3px solid #0969da; display: inline; }
        ins.move-to ins { background: #b6e3ff; }
        ins.move-to del { background: #ffcecb; }
        .renumber { font-weight: bold; background: #f6f8fa; color: #57606a; }
        .move-tag { font-family: system-ui, sans-serif; font-size: 0.75em; color: #0969da; text-decoration: none; margin-right: 0.3em; }
        .clause-label { font-family: system-ui, sans-serif; font-size: 0.75em; color: #57606a; background: #f6f8fa; border-radius: 3px; padding: 0 0.3em; margin-right: 0.3em; }
        </style>
        </head>
        <body>
        <header data-annotation="1"><h1>\(escape(redline.title))</h1><p>\(ins) insertions, \(del) deletions, \(moves) moves. <ins>Inserted</ins> · <del>Deleted</del> · <del class="move-from">Moved from</del> · <ins class="move-to">Moved to</ins> · <span class="renumber">renumbered</span></p></header>
        <main class="redline" id="redline">\(begin)\(body)\(end)</main>
        </body>
        </html>

        """
    }

    static func render(_ segs: [Redline.Segment], into out: inout String) {
        for s in segs {
            switch s {
            case .equal(let t):
                out += escape(t)
            case .insert(let t):
                out += "<ins data-change=\"ins\">\(escape(t))</ins>"
            case .delete(let t):
                out += "<del data-change=\"del\">\(escape(t))</del>"
            case .moveFrom(let id, let t):
                out += "<del class=\"move-from\" data-change=\"del\" data-move=\"\(id)\" id=\"move-\(id)-from\">"
                out += "<a class=\"move-tag\" data-annotation=\"1\" href=\"#move-\(id)-to\">[moved to #\(id) ↓]</a>"
                out += escape(t) + "</del>"
            case .moveTo(let id, let inner):
                out += "<ins class=\"move-to\" data-change=\"ins\" data-move=\"\(id)\" id=\"move-\(id)-to\">"
                out += "<a class=\"move-tag\" data-annotation=\"1\" href=\"#move-\(id)-from\">[moved from #\(id) ↑]</a>"
                render(inner, into: &out)
                out += "</ins>"
            case .renumber(let o, let n):
                out += "<del class=\"renumber\" data-change=\"del\" title=\"renumbered\">\(escape(o))</del>"
                out += "<ins class=\"renumber\" data-change=\"ins\" title=\"renumbered\">\(escape(n))</ins>"
            case .clauseLabel(let t):
                out += "<span class=\"clause-label\" data-annotation=\"1\">\(escape(t))</span>"
            }
        }
    }

    /// Parses a page produced by `render` and returns the text with all changes accepted.
    public static func acceptAll(html: String) -> String { resolve(html: html, accept: true) }

    /// Parses a page produced by `render` and returns the text with all changes rejected.
    public static func rejectAll(html: String) -> String { resolve(html: html, accept: false) }

    static func resolve(html: String, accept: Bool) -> String {
        var content = Substring(html)
        if let b = html.range(of: begin), let e = html.range(of: end, range: b.upperBound..<html.endIndex) {
            content = html[b.upperBound..<e.lowerBound]
        }
        var out = ""
        var dropDepth = 0          // > 0 while inside an element whose content is dropped
        var stack: [Bool] = []     // per open element: does it drop its content?
        var i = content.startIndex
        while i < content.endIndex {
            if content[i] == "<" {
                guard let close = content[i...].firstIndex(of: ">") else { break }
                let tag = content[content.index(after: i)..<close]
                i = content.index(after: close)
                if tag.hasPrefix("!") { continue }
                if tag.hasPrefix("/") {
                    if let drops = stack.popLast(), drops { dropDepth -= 1 }
                    continue
                }
                let drops = tag.contains("data-annotation=")
                    || (accept && tag.contains("data-change=\"del\""))
                    || (!accept && tag.contains("data-change=\"ins\""))
                if tag.hasSuffix("/") { continue }
                stack.append(drops)
                if drops { dropDepth += 1 }
            } else {
                let next = content[i...].firstIndex(of: "<") ?? content.endIndex
                if dropDepth == 0 { out += unescape(content[i..<next]) }
                i = next
            }
        }
        return out
    }

    /// Decodes the entities `escape` produces, plus numeric character references.
    static func unescape(_ s: Substring) -> String {
        guard s.contains("&") else { return String(s) }
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "&", let semi = s[i...].prefix(12).firstIndex(of: ";") {
                let name = s[s.index(after: i)..<semi]
                var rep: String?
                switch name {
                case "amp": rep = "&"
                case "lt": rep = "<"
                case "gt": rep = ">"
                case "quot": rep = "\""
                case "apos": rep = "'"
                default:
                    if name.hasPrefix("#x") || name.hasPrefix("#X"), let v = UInt32(name.dropFirst(2), radix: 16), let u = Unicode.Scalar(v) { rep = String(u) }
                    else if name.hasPrefix("#"), let v = UInt32(name.dropFirst()), let u = Unicode.Scalar(v) { rep = String(u) }
                }
                if let rep { out += rep; i = s.index(after: semi); continue }
            }
            out.append(s[i])
            i = s.index(after: i)
        }
        return out
    }
}

extension Redline {
    /// The redline as a complete HTML page.
    public var html: String { RedlineHTML.render(self) }
}

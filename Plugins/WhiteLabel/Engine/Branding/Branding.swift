import Foundation

/// Colours as `#rgb` or `#rrggbb`.
public enum Color {
    public static func isHex(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.first == UInt8(ascii: "#"), bytes.count == 4 || bytes.count == 7 else { return false }
        return bytes.dropFirst().allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
    }
}

/// A tenant's look: names, colours, fonts, links. Logo and favicon are stored apart (``LogoCheck``).
public struct Branding: Codable, Sendable, Equatable {
    public var productName: String
    public var primaryColor: String
    public var secondaryColor: String
    public var backgroundColor: String
    public var textColor: String
    /// A CSS font-family list of plain names (`Inter, sans-serif`).
    public var fontFamily: String
    public var emailSenderName: String
    /// Link name to https URL (terms, privacy, imprint).
    public var legalLinks: [String: String]

    enum CodingKeys: String, CodingKey {
        case productName = "product_name", primaryColor = "primary_color", secondaryColor = "secondary_color"
        case backgroundColor = "background_color", textColor = "text_color", fontFamily = "font_family"
        case emailSenderName = "email_sender_name", legalLinks = "legal_links"
    }

    public init(productName: String, primaryColor: String = "#1f6feb", secondaryColor: String = "#8250df", backgroundColor: String = "#ffffff",
                textColor: String = "#1f2328", fontFamily: String = "system-ui, sans-serif", emailSenderName: String? = nil, legalLinks: [String: String] = [:]) {
        (self.productName, self.primaryColor, self.secondaryColor, self.backgroundColor) = (productName, primaryColor, secondaryColor, backgroundColor)
        (self.textColor, self.fontFamily, self.emailSenderName, self.legalLinks) = (textColor, fontFamily, emailSenderName ?? productName, legalLinks)
    }

    /// The platform's look, for a tenant that set none.
    public static func standard(name: String) -> Branding { Branding(productName: name) }

    /// Throws the first field that is wrong.
    public func validate() throws {
        guard (1...100).contains(productName.count), !productName.contains(where: { $0.isNewline || $0 == "<" || $0 == ">" }) else {
            throw ValidationError("product_name must be 1 to 100 characters on one line, without < or >")
        }
        for (name, value) in [("primary_color", primaryColor), ("secondary_color", secondaryColor), ("background_color", backgroundColor), ("text_color", textColor)] {
            guard Color.isHex(value) else { throw ValidationError("\(name) must be a colour such as #1a2b3c, got '\(value.prefix(40))'") }
        }
        guard (1...200).contains(fontFamily.utf8.count),
              fontFamily.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || " ,-_".unicodeScalars.contains($0) }) else {
            throw ValidationError("font_family must be a list of font names (letters, digits, spaces, ',', '-', '_'), at most 200 bytes")
        }
        guard (1...100).contains(emailSenderName.count), !emailSenderName.contains(where: { $0.isNewline || $0 == "<" || $0 == ">" || $0 == "\"" }) else {
            throw ValidationError("email_sender_name must be 1 to 100 characters on one line, without <, > or \"")
        }
        guard legalLinks.count <= 10 else { throw ValidationError("legal_links holds at most 10 links") }
        for (name, link) in legalLinks {
            guard (1...40).contains(name.count), name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" }) else {
                throw ValidationError("legal link name '\(name.prefix(40))' must be 1 to 40 letters, digits, spaces or '-'")
            }
            guard link.utf8.count <= 500, let url = URL(string: link), url.scheme == "https", url.host != nil else {
                throw ValidationError("legal link '\(name)' must be an https URL, got '\(link.prefix(80))'")
            }
        }
    }

    /// CSS custom properties on `:root`.
    public var css: String {
        """
        :root {
          --brand-primary: \(primaryColor);
          --brand-secondary: \(secondaryColor);
          --brand-background: \(backgroundColor);
          --brand-text: \(textColor);
          --brand-font: \(fontFamily);
        }

        """
    }

    /// The branded landing page: the tenant's name and colours, its logo when it has one.
    public func landingPage(hasLogo: Bool, hasFavicon: Bool = false) -> String {
        let links = legalLinks.sorted { $0.key < $1.key }.map { "<a href=\"\(HTML.escape($0.value))\">\(HTML.escape($0.key))</a>" }.joined(separator: " · ")
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(HTML.escape(productName))</title>
        <link rel="stylesheet" href="/branding.css">\(hasFavicon ? "<link rel=\"icon\" href=\"/branding/favicon\">" : "")
        <style>
        body { margin: 0; background: var(--brand-background); color: var(--brand-text); font-family: var(--brand-font); }
        header { background: var(--brand-primary); color: #fff; padding: 48px 32px; }
        h1 { margin: 0; font-size: 40px; }
        main { padding: 32px; } .accent { display: inline-block; width: 120px; height: 24px; background: var(--brand-secondary); }
        img.logo { height: 64px; }
        </style></head>
        <body><header>\(hasLogo ? "<img class=\"logo\" src=\"/branding/logo\" alt=\"\">" : "")<h1 id="product">\(HTML.escape(productName))</h1></header>
        <main><p>Welcome to \(HTML.escape(productName)).</p><span class="accent"></span><footer>\(links)</footer></main></body></html>

        """
    }
}

/// Text for HTML.
public enum HTML {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

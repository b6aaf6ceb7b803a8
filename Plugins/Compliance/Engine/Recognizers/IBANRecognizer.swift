/// International bank account numbers (ISO 13616): a country code with its registered length,
/// two check digits and the national account number, in one block or in groups of four, with
/// the mod-97 checksum equal to 1.
enum IBANRecognizer {
    /// Registered IBAN lengths by country code.
    static let lengths: [UInt16: Int] = {
        let table = "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 DZ26 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30"
        var result: [UInt16: Int] = [:]
        for entry in table.split(separator: " ") {
            let u = Array(entry.utf8)
            result[UInt16(u[0]) << 8 | UInt16(u[1])] = Int(String(entry.dropFirst(2)))!
        }
        return result
    }()

    /// An IBAN starting at the upper-case letter `i` (at a word start), if any.
    static func match(_ bytes: Bytes, at i: Int) -> ByteMatch? {
        guard ASCII.isUpper(bytes.at(i + 1)), ASCII.isDigit(bytes.at(i + 2)), ASCII.isDigit(bytes.at(i + 3)),
              let length = lengths[UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])] else { return nil }
        var chars: [UInt8] = []
        chars.reserveCapacity(length)
        var k = i
        var end = i
        var groupLength = 0
        var grouped = false
        while k < bytes.count && chars.count < length {
            let b = bytes[k]
            if ASCII.isDigit(b) || ASCII.isUpper(b) {
                chars.append(b)
                groupLength += 1
                k += 1
                end = k
            } else if (b == 0x20 || b == 0x2D) && groupLength == 4 && (ASCII.isDigit(bytes.at(k + 1)) || ASCII.isUpper(bytes.at(k + 1))) {
                // Written in groups of four: every separator comes after exactly four characters.
                grouped = true
                groupLength = 0
                k += 1
            } else {
                break
            }
            if !grouped && groupLength > 4 && k < bytes.count && bytes[k] == 0x20 { break }
        }
        guard chars.count == length, !ASCII.isAlnum(bytes.at(end)) else { return nil }
        guard checksumIsValid(chars) else { return nil }
        return ByteMatch(type: .iban, start: i, end: end, score: 1.0)
    }

    /// ISO 7064 mod 97-10 over the rearranged IBAN (letters as 10–35) equals 1.
    static func checksumIsValid(_ chars: [UInt8]) -> Bool {
        var remainder = 0
        for index in 0..<chars.count {
            let b = chars[(index + 4) % chars.count]
            if ASCII.isDigit(b) {
                remainder = (remainder * 10 + ASCII.digitValue(b)) % 97
            } else {
                remainder = (remainder * 100 + Int(b - 0x41) + 10) % 97
            }
        }
        return remainder == 1
    }
}

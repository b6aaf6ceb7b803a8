/// Maps espeak-ng's English phoneme names to the CMU phone set of PocketSphinx's en-us model, so words
/// missing from the pronunciation dictionary (brand and customer names) still get a pronunciation.
public enum PhoneMapper {
    private static let table: [String: [String]] = [
        "aI@": ["AY", "ER"], "aI3": ["AY", "ER"], "aU@": ["AW", "ER"], "aU3": ["AW", "ER"],
        "A@": ["AA", "R"], "e@": ["EH", "R"], "U@": ["UH", "R"], "i@": ["IH", "R"], "i@3": ["IH", "R"], "O@": ["AO", "R"], "o@": ["AO", "R"],
        "oU": ["OW"], "OI": ["OY"], "aU": ["AW"], "aI": ["AY"], "eI": ["EY"], "tS": ["CH"], "dZ": ["JH"],
        "3:": ["ER"], "3": ["ER"], "@2": ["AH"], "@5": ["AH"], "@L": ["AH", "L"], "@": ["AH"], "a#": ["AH"], "a": ["AE"],
        "A:": ["AA"], "A": ["AA"], "0": ["AA"], "O:": ["AO"], "O": ["AO"], "V": ["AH"], "E": ["EH"], "e": ["EH"],
        "I#": ["IH"], "I2": ["IH"], "I": ["IH"], "i:": ["IY"], "i": ["IY"], "u:": ["UW"], "U": ["UH"], "u": ["UW"],
        "b": ["B"], "d": ["D"], "f": ["F"], "g": ["G"], "h": ["HH"], "j": ["Y"], "k": ["K"], "l": ["L"], "m": ["M"],
        "n": ["N"], "N": ["NG"], "p": ["P"], "r": ["R"], "r-": ["R"], "s": ["S"], "S": ["SH"], "t": ["T"], "T": ["TH"],
        "D": ["DH"], "v": ["V"], "w": ["W"], "z": ["Z"], "Z": ["ZH"], "x": ["K"], "t#": ["T"], "n-": ["N"], "l-": ["L"],
        "m-": ["M"], "w#": ["W"], "z#": ["Z"],
    ]

    /// The CMU phones for espeak-ng phoneme names (stress marks dropped, unknown names skipped, a repeated
    /// phone collapsed).
    public static func cmuPhones(_ espeakPhonemes: [String]) -> [String] {
        var phones: [String] = []
        for raw in espeakPhonemes {
            let name = raw.replacingStress()
            guard !name.isEmpty else { continue }
            let mapped = table[name] ?? table[String(name.dropLast())] ?? []
            for phone in mapped where phones.last != phone { phones.append(phone) }
        }
        return phones
    }
}

private extension String {
    /// Drops espeak-ng's stress and syllable marks (`'`, `,`, `%`, `=`) but keeps length marks (`:`).
    func replacingStress() -> String { filter { !"',%=".contains($0) } }
}

import CLLHTTP

/// Method names by llhttp's method number, made once, so a request costs no string work.
enum HTTPMethodNames {
    /// Every number llhttp defines (`llhttp_method_name` aborts on any other).
    private static let names: [String] = (0...Int(HTTP_FLUSH.rawValue)).map { number in
        String(cString: llhttp_method_name(llhttp_method_t(rawValue: UInt32(number))))
    }

    static func name(of method: UInt8) -> String {
        Int(method) < names.count ? names[Int(method)] : "<unknown>"
    }
}

import CLibUV

/// Method names by http_parser's method number, made once, so a request costs no string work.
enum HTTPMethodNames {
    private static let names: [String] = (0..<64).map { number in
        String(cString: http_method_str(http_method(rawValue: UInt32(number))))
    }

    static func name(of method: UInt32) -> String {
        Int(method) < names.count ? names[Int(method)] : "<unknown>"
    }
}

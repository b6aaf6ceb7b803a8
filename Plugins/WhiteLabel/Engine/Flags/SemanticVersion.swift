/// A semantic version (`1.2.3`, `1.2.3-beta.1`) for SEMVER_* constraints, ordered as semver.org says.
public struct SemanticVersion: Comparable, Sendable, Equatable {
    public let major: Int, minor: Int, patch: Int
    public let prerelease: [String]

    /// Parses `text` (an optional leading `v`, build metadata ignored), or nil. A plain
    /// `major.minor.patch` is read from the bytes without allocating (the evaluation path).
    public init?(_ text: String) {
        if let fast = Self.plain(text) {
            self = fast
            return
        }
        self.init(slow: text)
    }

    init(major: Int, minor: Int, patch: Int) { (self.major, self.minor, self.patch, prerelease) = (major, minor, patch, []) }

    @inline(__always)
    static func plain(_ text: String) -> SemanticVersion? {
        var text = text
        // One contiguous view of the bytes (a short version is copied to the stack): iterating
        // `String.utf8` byte by byte costs several times more.
        return text.withUTF8(plain(bytes:))
    }

    @inline(__always)
    private static func plain(bytes: UnsafeBufferPointer<UInt8>) -> SemanticVersion? {
        var parts = (0, 0, 0), index = 0, digits = 0
        for byte in bytes {
            if byte >= 48 && byte <= 57 {
                guard digits < 9 else { return nil }
                digits += 1
                switch index {
                case 0: parts.0 = parts.0 * 10 + Int(byte - 48)
                case 1: parts.1 = parts.1 * 10 + Int(byte - 48)
                default: parts.2 = parts.2 * 10 + Int(byte - 48)
                }
            } else if byte == 46, digits > 0, index < 2 {
                index += 1
                digits = 0
            } else {
                return nil
            }
        }
        guard index == 2, digits > 0 else { return nil }
        return SemanticVersion(major: parts.0, minor: parts.1, patch: parts.2)
    }

    init?(slow text: String) {
        var rest = Substring(text)
        if rest.hasPrefix("v") { rest = rest.dropFirst() }
        if let plus = rest.firstIndex(of: "+") { rest = rest[..<plus] }
        var pre: [String] = []
        if let dash = rest.firstIndex(of: "-") {
            pre = rest[rest.index(after: dash)...].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !pre.isEmpty, pre.allSatisfy({ !$0.isEmpty }) else { return nil }
            rest = rest[..<dash]
        }
        let numbers = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard numbers.count == 3, numbers.allSatisfy({ !$0.isEmpty && $0.count <= 9 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let major = Int(numbers[0]), let minor = Int(numbers[1]), let patch = Int(numbers[2]) else { return nil }
        (self.major, self.minor, self.patch, prerelease) = (major, minor, patch, pre)
    }

    public static func < (a: SemanticVersion, b: SemanticVersion) -> Bool {
        if (a.major, a.minor, a.patch) != (b.major, b.minor, b.patch) { return (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch) }
        if a.prerelease.isEmpty != b.prerelease.isEmpty { return !a.prerelease.isEmpty }
        for (x, y) in zip(a.prerelease, b.prerelease) where x != y {
            switch (Int(x), Int(y)) {
            case let (i?, j?): return i < j
            case (.some, nil): return true
            case (nil, .some): return false
            default: return x < y
            }
        }
        return a.prerelease.count < b.prerelease.count
    }
}

/// A context's `appVersion` as read once, when it is set (a context is evaluated against many
/// flags): a plain `major.minor.patch` kept as numbers (no allocation, nothing to release), any
/// other valid version (a pre-release, a leading `v`, build metadata) marked to be parsed whole
/// when compared.
struct ParsedVersion: Sendable, Equatable {
    enum Form: UInt8, Sendable { case absent, plain, other, invalid }
    let form: Form
    let major: Int, minor: Int, patch: Int

    static let absent = ParsedVersion(form: .absent, major: 0, minor: 0, patch: 0)

    private init(form: Form, major: Int, minor: Int, patch: Int) { (self.form, self.major, self.minor, self.patch) = (form, major, minor, patch) }

    init(_ text: String?) {
        guard let text else { self = .absent; return }
        if let plain = SemanticVersion.plain(text) {
            self.init(form: .plain, major: plain.major, minor: plain.minor, patch: plain.patch)
        } else {
            self.init(form: SemanticVersion(slow: text) == nil ? .invalid : .other, major: 0, minor: 0, patch: 0)
        }
    }
}

/// What is wrong with a native manifest, and the fix; the loader prefixes the file and function
/// to make the plugin's one-line diagnosis.
struct NativeManifestProblem: Error, CustomStringConvertible, Sendable {
    let problem: String
    let fix: String

    init(_ problem: String, fix: String) {
        self.problem = problem
        self.fix = fix
    }

    var description: String { "\(problem); fix: \(fix)" }

    /// The one-line diagnosis for `file` (and `function`, when the problem is in one).
    func diagnosis(file: String, function: String? = nil) -> String {
        "\(file): \(function.map { "function '\($0)': " } ?? "")\(problem); fix: \(fix)"
    }
}

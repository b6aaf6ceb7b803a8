import ChartEngine
import Foundation
import XCTest

/// Rendering and SVG-reading helpers shared by the newer structure tests.
enum Charts {
    static let fonts = RenderStructureTests.fonts

    static func render(_ spec: String, _ format: ChartRenderer.Format = .svg) throws -> [UInt8] {
        try ChartRenderer(fonts: fonts).render(json: Array(spec.utf8), as: format)
    }

    static func svg(_ spec: String) throws -> String { String(decoding: try render(spec), as: UTF8.self) }

    /// Text contents of the SVG `<text>` elements of a class.
    static func texts(_ svg: String, role: String) -> [String] {
        svg.components(separatedBy: "\n").filter { $0.hasPrefix("<text class=\"\(role)\"") }.map { line in
            let start = line.range(of: ">")!.upperBound, end = line.range(of: "</text>")!.lowerBound
            return String(line[start..<end])
        }
    }

    static func count(_ svg: String, role: String) -> Int { svg.components(separatedBy: "class=\"\(role)\"").count - 1 }

    /// A numeric attribute of every element of a class, in document order.
    static func attribute(_ svg: String, role: String, _ name: String) -> [Double] {
        svg.components(separatedBy: "\n").filter { $0.contains("class=\"\(role)\"") }.compactMap { line in
            line.components(separatedBy: " \(name)=\"").dropFirst().first.flatMap { Double($0.prefix { $0 != "\"" }) }
        }
    }

    /// The engine's refusal of a spec (nil when it renders).
    static func refusal(_ spec: String) -> ChartError? {
        do { _ = try render(spec); return nil } catch { return error as? ChartError }
    }
}

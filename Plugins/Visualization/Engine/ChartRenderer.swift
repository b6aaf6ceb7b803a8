/// The engine's front door: spec bytes in, SVG, PNG or PDF bytes out.
public struct ChartRenderer: Sendable {
    /// Output formats.
    public enum Format: String, Sendable, CaseIterable {
        case svg, png, pdf

        /// The media type of the format.
        public var contentType: String {
            switch self {
            case .svg: "image/svg+xml"
            case .png: "image/png"
            case .pdf: "application/pdf"
            }
        }
    }

    public var limits: ChartLimits
    public let fonts: FontContext

    public init(fonts: FontContext, limits: ChartLimits = ChartLimits()) {
        self.fonts = fonts
        self.limits = limits
    }

    /// Parses the spec document (JSON bytes) into a spec.
    public static func parseSpec(_ bytes: [UInt8]) throws(ChartError) -> ChartSpec {
        var parser = SpecParser()
        return try parser.parse(try JSONParser.parse(bytes))
    }

    /// Renders an already parsed spec; `external` holds the tables of its external data sources.
    public func render(_ spec: ChartSpec, as format: Format, external: [ExternalSource: DataTable] = [:]) throws(ChartError) -> [UInt8] {
        let scene = try ChartCompiler(limits: limits, external: external).compile(spec)
        switch format {
        case .svg: return SVGRenderer.render(scene)
        case .png: return try CairoRenderer(fonts: fonts).render(scene, as: .png)
        case .pdf: return try CairoRenderer(fonts: fonts).render(scene, as: .pdf)
        }
    }

    /// Renders several parsed specs as one multi-page PDF (a report), each with its own external data.
    public func renderReport(_ pages: [(spec: ChartSpec, external: [ExternalSource: DataTable])]) throws(ChartError) -> [UInt8] {
        var scenes: [Scene] = []
        for page in pages { scenes.append(try ChartCompiler(limits: limits, external: page.external).compile(page.spec)) }
        return try CairoRenderer(fonts: fonts).renderPDF(pages: scenes)
    }

    /// Parses and renders in one step.
    public func render(json bytes: [UInt8], as format: Format) throws(ChartError) -> [UInt8] {
        try render(try Self.parseSpec(bytes), as: format)
    }
}

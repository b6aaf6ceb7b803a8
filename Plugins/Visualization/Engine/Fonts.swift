import CCairo
import Foundation

/// The fonts cairo draws text with: a private fontconfig configuration holding only the DejaVu files of
/// Debian's fonts-dejavu-core, and a pango font map over it, so output does not depend on the machine's
/// fonts. Create one per process user (the plugin keeps one) and pass it to ``CairoRenderer``; renders
/// that share it are serialised by its lock (pango font maps are not safe to share across threads).
public final class FontContext: @unchecked Sendable {
    /// Where fonts-dejavu-core installs its files.
    public static let defaultDirectory = "/usr/share/fonts/truetype/dejavu"

    let fontMap: UnsafeMutablePointer<PangoFontMap>
    private let config: OpaquePointer
    let lock = NSLock()

    /// Loads the fonts of `directory`.
    /// - Throws: ``ChartError`` `.render` when the directory holds no usable font.
    public init(directory: String = FontContext.defaultDirectory) throws(ChartError) {
        guard let config = FcConfigCreate() else { throw ChartError(.render, path: "$", "fontconfig could not create a configuration") }
        guard FcConfigAppFontAddDir(config, directory) == FcTrue else {
            FcConfigDestroy(config)
            throw ChartError(.render, path: "$", "no fonts in \(directory) (install fonts-dejavu-core)")
        }
        self.config = config
        let map = pango_cairo_font_map_new_for_font_type(CAIRO_FONT_TYPE_FT)!
        fontMap = map
        pango_fc_font_map_set_config(OpaquePointer(map), config)
    }

    deinit {
        g_object_unref(fontMap)
        FcConfigDestroy(config)
    }
}

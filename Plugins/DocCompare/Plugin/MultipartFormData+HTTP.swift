import DocDiff
import PlexusSDK

extension MultipartFormData {
    /// Parses a request's form; a malformed one is a 400 naming what is wrong (``MultipartError``).
    static func parse(request body: [UInt8], contentType: String) throws -> MultipartFormData {
        do {
            return try parse(body, contentType: contentType)
        } catch let error as MultipartError {
            throw HTTPError.badRequest(error.message)
        }
    }
}

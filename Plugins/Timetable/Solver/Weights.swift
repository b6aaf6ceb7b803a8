/// Weights of the soft constraints; the cost is the weighted sum of the soft penalties.
public struct Weights: Sendable, Hashable, Codable {
    /// Per student above a room's capacity, per lecture.
    public var roomCapacity: Int
    /// Per day a course falls short of its minimum number of working days.
    public var minWorkingDays: Int
    /// Per isolated lecture of a curriculum.
    public var curriculumCompactness: Int
    /// Per distinct room used by a course beyond the first.
    public var roomStability: Int
    /// Per unit of period penalty (lectures outside preferred times in the school model).
    public var preferredTime: Int

    /// Creates a weight table.
    public init(roomCapacity: Int = 1, minWorkingDays: Int = 5, curriculumCompactness: Int = 2,
                roomStability: Int = 1, preferredTime: Int = 1) {
        self.roomCapacity = roomCapacity
        self.minWorkingDays = minWorkingDays
        self.curriculumCompactness = curriculumCompactness
        self.roomStability = roomStability
        self.preferredTime = preferredTime
    }

    /// The ITC2007 Track 3 ("UD2") weights: 1, 5, 2, 1 (and 1 for preferred times, unused there).
    public static let itc2007 = Weights()
}

extension Weights {
    private enum CodingKeys: String, CodingKey {
        case roomCapacity, minWorkingDays, curriculumCompactness, roomStability, preferredTime
    }

    /// Decodes weights; missing keys take the ITC2007 defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Weights.itc2007
        self.init(roomCapacity: try c.decodeIfPresent(Int.self, forKey: .roomCapacity) ?? d.roomCapacity,
                  minWorkingDays: try c.decodeIfPresent(Int.self, forKey: .minWorkingDays) ?? d.minWorkingDays,
                  curriculumCompactness: try c.decodeIfPresent(Int.self, forKey: .curriculumCompactness) ?? d.curriculumCompactness,
                  roomStability: try c.decodeIfPresent(Int.self, forKey: .roomStability) ?? d.roomStability,
                  preferredTime: try c.decodeIfPresent(Int.self, forKey: .preferredTime) ?? d.preferredTime)
    }
}

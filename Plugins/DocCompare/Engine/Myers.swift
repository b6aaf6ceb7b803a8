/// Myers' O(ND) difference algorithm in linear space.
///
/// This is the divide-and-conquer form: find the middle snake of the shortest edit path
/// with simultaneous forward and backward searches, then recurse on both halves. Common
/// prefixes and suffixes are stripped at every level. No cost heuristics are used, so the
/// result is a minimal edit script. Changed tokens are flagged in `changedA`/`changedB`.
struct MyersDiff {
    let a: UnsafePointer<Int32>
    let b: UnsafePointer<Int32>
    let changedA: UnsafeMutablePointer<Bool>
    let changedB: UnsafeMutablePointer<Bool>
    /// Forward and backward furthest-reaching x per diagonal, indexed by diagonal + offset.
    let fd: UnsafeMutablePointer<Int>
    let bd: UnsafeMutablePointer<Int>

    /// Runs Myers on `a[aLo..<aHi]` vs `b[bLo..<bHi]`, marking changed flags.
    static func run(a: UnsafeBufferPointer<Int32>, b: UnsafeBufferPointer<Int32>,
                    changedA: UnsafeMutableBufferPointer<Bool>, changedB: UnsafeMutableBufferPointer<Bool>,
                    aRange: Range<Int>, bRange: Range<Int>) {
        if aRange.isEmpty && bRange.isEmpty { return }
        let n = a.count, m = b.count
        let size = n + m + 3
        let fdBuf = UnsafeMutablePointer<Int>.allocate(capacity: size)
        let bdBuf = UnsafeMutablePointer<Int>.allocate(capacity: size)
        defer { fdBuf.deallocate(); bdBuf.deallocate() }
        let dummyI = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        let dummyB = UnsafeMutablePointer<Bool>.allocate(capacity: 1)
        defer { dummyI.deallocate(); dummyB.deallocate() }
        let ctx = MyersDiff(a: a.baseAddress ?? UnsafePointer(dummyI), b: b.baseAddress ?? UnsafePointer(dummyI),
                            changedA: changedA.baseAddress ?? dummyB, changedB: changedB.baseAddress ?? dummyB,
                            fd: fdBuf + (m + 1), bd: bdBuf + (m + 1))
        ctx.compare(aRange.lowerBound, aRange.upperBound, bRange.lowerBound, bRange.upperBound)
    }

    func compare(_ xoff0: Int, _ xlim0: Int, _ yoff0: Int, _ ylim0: Int) {
        var xoff = xoff0, xlim = xlim0, yoff = yoff0, ylim = ylim0
        while xoff < xlim && yoff < ylim && a[xoff] == b[yoff] { xoff += 1; yoff += 1 }
        while xlim > xoff && ylim > yoff && a[xlim - 1] == b[ylim - 1] { xlim -= 1; ylim -= 1 }
        if xoff == xlim {
            var y = yoff
            while y < ylim { changedB[y] = true; y += 1 }
        } else if yoff == ylim {
            var x = xoff
            while x < xlim { changedA[x] = true; x += 1 }
        } else {
            let (xmid, ymid) = middleSnake(xoff, xlim, yoff, ylim)
            compare(xoff, xmid, yoff, ymid)
            compare(xmid, xlim, ymid, ylim)
        }
    }

    /// Finds a point (x, y) on a middle snake of a shortest edit path for the sub-problem.
    func middleSnake(_ xoff: Int, _ xlim: Int, _ yoff: Int, _ ylim: Int) -> (Int, Int) {
        let dmin = xoff - ylim, dmax = xlim - yoff
        let fmid = xoff - yoff, bmid = xlim - ylim
        var fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid
        let odd = (fmid - bmid) & 1 != 0
        fd[fmid] = xoff
        bd[bmid] = xlim
        while true {
            // Extend the forward search by one edit.
            if fmin > dmin { fmin -= 1; fd[fmin - 1] = -1 } else { fmin += 1 }
            if fmax < dmax { fmax += 1; fd[fmax + 1] = -1 } else { fmax -= 1 }
            var d = fmax
            while d >= fmin {
                let tlo = fd[d - 1], thi = fd[d + 1]
                var x = tlo >= thi ? tlo + 1 : thi
                var y = x - d
                while x < xlim && y < ylim && a[x] == b[y] { x += 1; y += 1 }
                fd[d] = x
                if odd && bmin <= d && d <= bmax && bd[d] <= x { return (x, y) }
                d -= 2
            }
            // Extend the backward search by one edit.
            if bmin > dmin { bmin -= 1; bd[bmin - 1] = Int.max } else { bmin += 1 }
            if bmax < dmax { bmax += 1; bd[bmax + 1] = Int.max } else { bmax -= 1 }
            d = bmax
            while d >= bmin {
                let tlo = bd[d - 1], thi = bd[d + 1]
                var x = tlo < thi ? tlo : thi - 1
                var y = x - d
                while x > xoff && y > yoff && a[x - 1] == b[y - 1] { x -= 1; y -= 1 }
                bd[d] = x
                if !odd && fmin <= d && d <= fmax && x <= fd[d] { return (x, y) }
                d -= 2
            }
        }
    }
}

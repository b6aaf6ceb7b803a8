/// Histogram difference (the algorithm of JGit and `git diff --histogram`).
///
/// In each region it finds the longest common run anchored on the rarest shared token,
/// then handles the regions before and after it. Regions whose shared tokens are all too
/// frequent fall back to Myers. Produces readable, usually (not always) minimal scripts.
struct HistogramDiff {
    let a: UnsafePointer<Int32>
    let b: UnsafePointer<Int32>
    let changedA: UnsafeMutablePointer<Bool>
    let changedB: UnsafeMutablePointer<Bool>
    let myers: MyersDiff
    /// Per-id chain head (first index in the current a-region) and occurrence count.
    let head: UnsafeMutablePointer<Int32>
    let count: UnsafeMutablePointer<Int32>
    /// Per a-index next occurrence of the same id.
    let next: UnsafeMutablePointer<Int32>
    let maxChain: Int32 = 64

    /// Runs the histogram diff over whole sequences.
    static func run(a: UnsafeBufferPointer<Int32>, b: UnsafeBufferPointer<Int32>, uniqueCount: Int,
                    changedA: UnsafeMutableBufferPointer<Bool>, changedB: UnsafeMutableBufferPointer<Bool>) {
        let n = a.count, m = b.count
        if n == 0 && m == 0 { return }
        let size = n + m + 3
        let fdBuf = UnsafeMutablePointer<Int>.allocate(capacity: size)
        let bdBuf = UnsafeMutablePointer<Int>.allocate(capacity: size)
        let head = UnsafeMutablePointer<Int32>.allocate(capacity: uniqueCount + 1)
        head.initialize(repeating: -1, count: uniqueCount + 1)
        let count = UnsafeMutablePointer<Int32>.allocate(capacity: uniqueCount + 1)
        count.initialize(repeating: 0, count: uniqueCount + 1)
        let next = UnsafeMutablePointer<Int32>.allocate(capacity: n + 1)
        let dummyI = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        let dummyB = UnsafeMutablePointer<Bool>.allocate(capacity: 1)
        defer {
            fdBuf.deallocate(); bdBuf.deallocate(); head.deallocate(); count.deallocate()
            next.deallocate(); dummyI.deallocate(); dummyB.deallocate()
        }
        let ap = a.baseAddress ?? UnsafePointer(dummyI), bp = b.baseAddress ?? UnsafePointer(dummyI)
        let ca = changedA.baseAddress ?? dummyB, cb = changedB.baseAddress ?? dummyB
        let myers = MyersDiff(a: ap, b: bp, changedA: ca, changedB: cb, fd: fdBuf + (m + 1), bd: bdBuf + (m + 1))
        let h = HistogramDiff(a: ap, b: bp, changedA: ca, changedB: cb, myers: myers,
                              head: head, count: count, next: next)
        h.process(0, n, 0, m)
    }

    /// Processes regions with an explicit work stack (no deep recursion).
    func process(_ aLo0: Int, _ aHi0: Int, _ bLo0: Int, _ bHi0: Int) {
        var stack: [(Int, Int, Int, Int)] = [(aLo0, aHi0, bLo0, bHi0)]
        while let (aLo1, aHi1, bLo1, bHi1) = stack.popLast() {
            var aLo = aLo1, aHi = aHi1, bLo = bLo1, bHi = bHi1
            while aLo < aHi && bLo < bHi && a[aLo] == b[bLo] { aLo += 1; bLo += 1 }
            while aHi > aLo && bHi > bLo && a[aHi - 1] == b[bHi - 1] { aHi -= 1; bHi -= 1 }
            if aLo == aHi { for y in bLo..<bHi { changedB[y] = true }; continue }
            if bLo == bHi { for x in aLo..<aHi { changedA[x] = true }; continue }

            // Index the a-region.
            var i = aHi - 1
            while i >= aLo {
                let id = Int(a[i])
                next[i] = head[id]
                head[id] = Int32(i)
                count[id] += 1
                i -= 1
            }
            var hasCommon = false
            var bestCount = maxChain + 1
            var bestAs = 0, bestAe = 0, bestBs = 0, bestBe = 0
            var bi = bLo
            while bi < bHi {
                let id = Int(b[bi])
                var ai = Int(head[id])
                if ai < 0 { bi += 1; continue }
                hasCommon = true
                let c = count[id]
                if c > bestCount { bi += 1; continue }
                var nextB = bi + 1
                while ai >= 0 {
                    var aS = ai, bS = bi, aE = ai + 1, bE = bi + 1
                    var rc = c
                    while aS > aLo && bS > bLo && a[aS - 1] == b[bS - 1] {
                        aS -= 1; bS -= 1
                        rc = min(rc, count[Int(a[aS])])
                    }
                    while aE < aHi && bE < bHi && a[aE] == b[bE] {
                        rc = min(rc, count[Int(a[aE])])
                        aE += 1; bE += 1
                    }
                    if nextB < bE { nextB = bE }
                    if rc <= maxChain && ((bestAe - bestAs) < (aE - aS) || rc < bestCount) {
                        bestAs = aS; bestAe = aE; bestBs = bS; bestBe = bE; bestCount = rc
                    }
                    var nai = Int(next[ai])
                    while nai >= 0 && nai < aE { nai = Int(next[nai]) }
                    ai = nai
                }
                bi = nextB
            }
            // Clear the index.
            for k in aLo..<aHi { let id = Int(a[k]); head[id] = -1; count[id] = 0 }

            if bestCount <= maxChain {
                stack.append((bestAe, aHi, bestBe, bHi))
                stack.append((aLo, bestAs, bLo, bestBs))
            } else if !hasCommon {
                for x in aLo..<aHi { changedA[x] = true }
                for y in bLo..<bHi { changedB[y] = true }
            } else {
                myers.compare(aLo, aHi, bLo, bHi)
            }
        }
    }
}

"""Writes the benchmark's chart specs into WORK and times matplotlib (Agg) and vl-convert on the same data.

Also writes each line as a columnar upload (WORK/<chart>.pxc) for plexus.
Prints one line per chart and format: `chart fmt matplotlib_seconds vlconvert_seconds` (best of 3 render
calls), then `mem <matplotlib peak KiB> <vl-convert peak KiB>` measured in separate child processes.
"""
import io, json, math, resource, struct, subprocess, sys, time

work = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "--peak" else None


def line(n):
    return [{"x": i, "y": math.sin(i / 500.0) + (i % 7) * 0.01} for i in range(n)]


def bars():
    return [{"g": f"g{i:02d}", "s": f"s{j}", "v": (i * 7 + j * 3) % 23 + 1} for i in range(50) for j in range(4)]


def spec(name):
    if name == "bars_50x4":
        return {"width": 800, "height": 400, "data": {"values": bars()}, "mark": "bar",
                "encoding": {"x": {"field": "g", "type": "nominal"}, "xOffset": {"field": "s", "type": "nominal"},
                             "y": {"field": "v", "type": "quantitative"}, "color": {"field": "s", "type": "nominal"}}}
    n = {"line_1k": 1000, "line_100k": 100_000, "line_1m": 1_000_000}[name]
    return {"width": 800, "height": 400, "data": {"values": line(n)}, "mark": "line",
            "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"}}}


def columns(s):
    """The same line as a columnar upload for plexus: "PXC1", header length, JSON header, float64 columns."""
    values = s["data"]["values"]
    spec = {k: v for k, v in s.items() if k != "data"}
    header = json.dumps({"spec": spec, "columns": ["x", "y"], "rows": len(values)}).encode()
    xs = struct.pack(f"<{len(values)}d", *(r["x"] for r in values))
    ys = struct.pack(f"<{len(values)}d", *(r["y"] for r in values))
    return b"PXC1" + struct.pack("<I", len(header)) + header + xs + ys


def mpl_render(name, fmt, s):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    values = s["data"]["values"]
    fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
    if name == "bars_50x4":
        groups = sorted({r["g"] for r in values}); series = sorted({r["s"] for r in values})
        width = 0.8 / len(series)
        for k, ser in enumerate(series):
            ys = [r["v"] for r in values if r["s"] == ser]
            ax.bar([i + k * width for i in range(len(groups))], ys, width, label=ser)
        ax.legend()
    else:
        ax.plot([r["x"] for r in values], [r["y"] for r in values])
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    plt.close(fig)
    return buf.getvalue()


def vl_render(name, fmt, s):
    import vl_convert as vlc
    return vlc.vegalite_to_svg(s) if fmt == "svg" else vlc.vegalite_to_png(s)


def best(fn, *args, runs=3):
    times = []
    for _ in range(runs):
        t = time.perf_counter(); out = fn(*args); times.append(time.perf_counter() - t)
        assert out and len(out) > 100
    return min(times)


def peak(which):
    """Peak RSS (KiB) of a fresh process drawing the 1M-point line as SVG and PNG with one peer."""
    # Through /usr/bin/time: Linux keeps a process's peak RSS across exec, so a child forked straight from this
    # (large) process would report this process's peak; time's own child starts from a small process.
    out = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, __file__, "--peak", which], check=True, capture_output=True, text=True)
    return out.stderr.strip().splitlines()[-1]


if __name__ == "__main__" and sys.argv[1] == "--peak":
    s = spec("line_1m")
    render = mpl_render if sys.argv[2] == "mpl" else vl_render
    for f in ("svg", "png"):
        render("line_1m", f, s)
elif __name__ == "__main__":
    for name in ("line_1k", "line_100k", "line_1m", "bars_50x4"):
        s = spec(name)
        with open(f"{work}/{name}.json", "w") as f:
            json.dump(s, f)
        if name.startswith("line"):
            with open(f"{work}/{name}.pxc", "wb") as f:
                f.write(columns(s))
        for fmt in ("svg", "png"):
            runs = 1 if name == "line_1m" else 3   # vl-convert needs about half a minute per 1M-point render
            print(name, fmt, f"{best(mpl_render, name, fmt, s, runs=runs):.4f}", f"{best(vl_render, name, fmt, s, runs=runs):.4f}", flush=True)
    print("mem", peak("mpl"), peak("vl"))

"""Runs the benchmark suite and prints one table: workload, tapegrad, torch, torch/tapegrad.

    python bench/report.py [pytest args...]

Times are medians of pytest-benchmark's rounds; the ratio is above 1 where tapegrad is faster.
"""
import json
import pathlib
import subprocess
import sys
import tempfile


def fmt(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def main():
    bench_dir = pathlib.Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "bench.json"
        cmd = [sys.executable, "-m", "pytest", str(bench_dir), "-q", "-p", "no:cacheprovider",
               f"--benchmark-json={out}", *sys.argv[1:]]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        data = json.loads(out.read_text())
    groups = {}
    for b in data["benchmarks"]:
        lib = b["param"] if b.get("param") in ("tapegrad", "torch") else b["name"].split("[")[-1].rstrip("]")
        groups.setdefault(b["group"] or b["name"], {})[lib] = b["stats"]["median"]
    rows = [("workload", "tapegrad", "torch", "ratio")]
    for group, times in groups.items():
        ours, theirs = times.get("tapegrad"), times.get("torch")
        ratio = f"{theirs / ours:.2f}x" if ours and theirs else "-"
        rows.append((group, fmt(ours) if ours else "-", fmt(theirs) if theirs else "-", ratio))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    machine = data.get("machine_info", {})
    print(f"\n{machine.get('cpu', {}).get('brand_raw', '?')}, {machine.get('cpu', {}).get('count', '?')} cores, "
          f"Python {machine.get('python_version', '?')}")


if __name__ == "__main__":
    main()

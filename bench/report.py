"""Runs the benchmark suite and prints one table (workload, tapegrad, torch, torch/tapegrad) and a GEMM table.

    python bench/report.py [--no-coretype-sweep] [--peak-gflops 430] [pytest args...]

Times are medians of pytest-benchmark's rounds; the ratio is above 1 where tapegrad is faster. The GEMM table
gives GFLOP/s for tapegrad, torch and numpy (its OpenBLAS), tapegrad as a percentage of numpy and of the
machine's peak. OpenBLAS reads OPENBLAS_CORETYPE once, when it loads, so the GEMM benchmarks run again in a
fresh process for each setting: OPENBLAS_CORETYPE=Haswell and unset.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

BENCH_DIR = pathlib.Path(__file__).resolve().parent
LIBS = ("tapegrad", "torch", "numpy")
CORETYPE_SETTINGS = ("Haswell", None)
# The table lists workloads in this order of files; files not named here come last.
FILE_ORDER = ["test_per_op.py", "test_training_steps.py", "test_gemm.py", "test_elementwise.py",
              "test_reductions.py", "test_softmax.py", "test_small_layers.py", "test_conv.py", "test_normalization.py",
              "test_optim_step.py", "test_import.py"]


def run_pytest(paths, pytest_args, env):
    """pytest-benchmark's JSON for the given test paths, or None where no test was selected."""
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "bench.json"
        cmd = [sys.executable, "-m", "pytest", *map(str, paths), "-q", "-p", "no:cacheprovider",
               f"--benchmark-json={out}", *pytest_args]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode == 5:  # pytest: no tests collected
            return None
        if done.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout[-5000:]}{done.stderr[-5000:]}")
        return json.loads(out.read_text())


def env_with_coretype(coretype):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    if coretype is not None:
        env["OPENBLAS_CORETYPE"] = coretype
    return env


def lib_of(benchmark):
    """Which participant ran: the test id's parameter that names a library."""
    params = benchmark["name"].partition("[")[2].rstrip("]").split("-")
    return next(p for p in params if p in LIBS)


def fmt_seconds(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def fmt_bytes(size):
    return f"{size / 2**20:.3g} MiB"


FORMATS = {"s": fmt_seconds, "B": fmt_bytes}


def comparison_rows(data):
    """(workload, {lib: value}, format) in the suite's order; extra_info["rows"] replaces a benchmark's time."""
    def file_rank(benchmark):
        name = benchmark["fullname"].partition("::")[0].rpartition("/")[2]
        return FILE_ORDER.index(name) if name in FILE_ORDER else len(FILE_ORDER)

    rows = {}
    for b in sorted(data["benchmarks"], key=file_rank):
        lib = lib_of(b)
        measured = b["extra_info"].get("rows") or {b["group"] or b["name"]: [b["stats"]["median"], "s"]}
        for workload, (value, unit) in measured.items():
            rows.setdefault(workload, ({}, FORMATS[unit]))[0][lib] = value
    return [(workload, values, fmt) for workload, (values, fmt) in rows.items()]


def main_table(data):
    table = [("workload", "tapegrad", "torch", "ratio")]
    for workload, values, fmt in comparison_rows(data):
        ours, theirs = values.get("tapegrad"), values.get("torch")
        ratio = f"{theirs / ours:.2f}x" if ours and theirs else "-"
        table.append((workload, fmt(ours) if ours else "-", fmt(theirs) if theirs else "-", ratio))
    return table


def gemm_table(data, peak_gflops):
    table = [("GEMM float32", "tapegrad GFLOP/s", "torch GFLOP/s", "numpy GFLOP/s", "% of numpy",
              f"% of peak ({peak_gflops:g})")]
    gflops = {}
    for b in data["benchmarks"]:
        if "flops" in b["extra_info"]:
            gflops.setdefault(b["group"], {})[lib_of(b)] = b["extra_info"]["flops"] / b["stats"]["median"] / 1e9
    for group, rates in gflops.items():
        ours, numpy = rates.get("tapegrad"), rates.get("numpy")
        table.append((group, *(f"{rates[lib]:.1f}" if lib in rates else "-" for lib in LIBS),
                      f"{100 * ours / numpy:.0f}%" if ours and numpy else "-",
                      f"{100 * ours / peak_gflops:.0f}%" if ours else "-"))
    return table


def print_table(table):
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for i, row in enumerate(table):
        print("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def openblas_kernels(machine):
    return ", ".join(f"{lib} {core}" for lib, core in machine["openblas_cores"].items())


def machine_line(data):
    machine = data["machine_info"]
    return (f"{machine['cpu'].get('brand_raw', '?')}, {machine['cpu'].get('count', '?')} cores, "
            f"threads per library: {machine['bench_threads']}, "
            f"OPENBLAS_CORETYPE={machine['openblas_coretype'] or '(unset)'} (OpenBLAS kernels: {openblas_kernels(machine)}), "
            f"Python {machine['python_version']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     allow_abbrev=False)
    parser.add_argument("--no-coretype-sweep", action="store_true",
                        help="report GEMM only under the current OPENBLAS_CORETYPE")
    parser.add_argument("--peak-gflops", type=float, default=430.0,
                        help="float32 peak for the %% of peak column (default: 430, two AVX-512 cores)")
    args, pytest_args = parser.parse_known_args()

    data = run_pytest([BENCH_DIR], pytest_args, os.environ)
    if data is None:
        sys.exit("no benchmark selected")
    print_table(main_table(data))
    print(f"\n{machine_line(data)}")

    current = os.environ.get("OPENBLAS_CORETYPE")
    sweep = [current] if args.no_coretype_sweep else [current, *(c for c in CORETYPE_SETTINGS if c != current)]
    for coretype in sweep:
        gemm = data if coretype == current else run_pytest([BENCH_DIR / "test_gemm.py"], pytest_args,
                                                           env_with_coretype(coretype))
        if gemm is None or not any("flops" in b["extra_info"] for b in gemm["benchmarks"]):
            continue
        print(f"\nGEMM with OPENBLAS_CORETYPE={coretype or '(unset)'} "
              f"(OpenBLAS kernels: {openblas_kernels(gemm['machine_info'])})")
        print_table(gemm_table(gemm, args.peak_gflops))


if __name__ == "__main__":
    main()

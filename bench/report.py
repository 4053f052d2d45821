#!/usr/bin/env python3
"""Turns piicrypt_bench JSON files (one per pass of the suite, or one run with
--benchmark_repetitions) into a report: report.md (medians, ratios against piicrypt, the
figures that matter), and PNG plots made with gnuplot.
Usage: report.py OUT_DIR MACHINE_TEXT_FILE BENCH.json...

Benchmark names are OP/IMPL/SIZE (SIZE may be a word: "email", "order"), optionally
followed by /real_time and /threads:N. The time of a benchmark is the median of its
repetitions: CPU time, except for benchmarks measured in real time (those with threads,
those that wait on a database), whose real time is the one that counts.
"""
import json
import os
import subprocess
import sys
from collections import OrderedDict

# The implementations in the order the tables and plots show them; others follow.
IMPL_ORDER = ["piicrypt", "openssl_floor", "openssl_evp_midstate", "openssl_naive",
              "libsodium", "libmongocrypt"]
# Operations of the "time per operation" plot, each at one size.
OPS_PLOT = [("AeadEncrypt", "32"), ("AeadDecrypt", "32"), ("FieldEncrypt", "32"),
            ("FieldDecrypt", "32"), ("DetEncrypt", "32"), ("DetDecrypt", "32"),
            ("BlindIndex", "32"), ("FieldBlindIndex", "email"), ("RecordEncrypt", "order"),
            ("RecordDecrypt", "order"), ("RowEncrypt", "order"), ("RowDecrypt", "order")]
# (what, numerator, denominator, bound, "max" or "min"): a ratio of medians in this run.
CHECKS = [
    ("text-form decrypt over the AES-GCM primitive",
     "FieldDecrypt/piicrypt/32", "AeadDecrypt/piicrypt/32", 1.3, "max"),
    ("blind-index HMAC over the EVP floor",
     "BlindIndex/piicrypt/32", "BlindIndex/openssl_floor/32", 0.6, "max"),
    ("e-mail blind index through the API over the HMAC",
     "FieldBlindIndex/piicrypt/email", "BlindIndex/piicrypt/32", 1.3, "max"),
    ("libmongocrypt field encrypt over piicrypt's",
     "FieldEncrypt/libmongocrypt/32", "FieldEncrypt/piicrypt/32", 20, "min"),
    ("libmongocrypt field decrypt over piicrypt's",
     "FieldDecrypt/libmongocrypt/32", "FieldDecrypt/piicrypt/32", 20, "min"),
    ("libsodium field encrypt (text) over piicrypt's",
     "FieldEncrypt/libsodium/32", "FieldEncrypt/piicrypt/32", 2.5, "min"),
    ("libsodium order record encrypt over piicrypt's",
     "RecordEncrypt/libsodium/order", "RecordEncrypt/piicrypt/order", 2.5, "min"),
]
# (what, numerator, [denominators], bound): the numerator over the SUM of the denominators'
# medians in this run, at most `bound`: what a whole-row call adds to the field calls it makes.
ROW_ENCRYPT_PARTS = ["FieldEncrypt/piicrypt/order." + c for c in
                     ("customer_name", "customer_email", "customer_phone", "delivery_address",
                      "card_number")] + \
                    ["FieldBlindIndex/piicrypt/order." + c for c in ("customer_email", "customer_phone")]
ROW_DECRYPT_PARTS = ["FieldDecrypt/piicrypt/order." + c for c in
                     ("customer_name", "customer_email", "customer_phone", "delivery_address",
                      "card_number")]
SUM_CHECKS = [
    ("order row encrypt (5 fields, 2 blind indexes) over its field calls",
     "RowEncrypt/piicrypt/order", ROW_ENCRYPT_PARTS, 1.15),
    ("order row decrypt (5 fields) over its field calls",
     "RowDecrypt/piicrypt/order", ROW_DECRYPT_PARTS, 1.15),
]
# Absolute bounds, in ns (a machine-dependent figure, so reported with the machine).
ABSOLUTE = [("phone blind index, number seen before", "FieldBlindIndex/piicrypt/phone", 5000)]


def parse_name(run_name):
    """(op, impl, size, threads); threads is 0 for a benchmark without a thread count."""
    parts = run_name.split("/")
    threads = 0
    rest = []
    for p in parts:
        if p.startswith("threads:"):
            threads = int(p.split(":")[1])
        elif p != "real_time":
            rest.append(p)
    op = rest[0]
    impl = rest[1] if len(rest) > 1 else ""
    size = "/".join(rest[2:]) if len(rest) > 2 else "-"
    return op, impl, size, threads


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def load(paths):
    """{run_name: result}, each the median over every run of that benchmark in `paths`."""
    runs = OrderedDict()
    context = {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        context = data.get("context", context)
        for b in data["benchmarks"]:
            if b.get("error_occurred") or b.get("run_type") == "aggregate":
                continue
            runs.setdefault(b.get("run_name", b["name"]), []).append(b)
    results = OrderedDict()
    for name, bs in runs.items():
        real = "real_time" in name
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[bs[0].get("time_unit", "ns")]
        op, impl, size, threads = parse_name(name)
        ips = [b["items_per_second"] for b in bs if "items_per_second" in b]
        results[name] = {
            "op": op, "impl": impl, "size": size, "threads": threads,
            "ns": median([(b["real_time"] if real else b["cpu_time"]) * scale for b in bs]),
            "items_per_second": median(ips) if ips else None,
            "real": real, "runs": len(bs),
        }
    return context, results


def fmt_time(ns):
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.2f µs" % (ns / 1e3)
    return "%.0f ns" % ns


def impl_key(impl):
    return (IMPL_ORDER.index(impl) if impl in IMPL_ORDER else len(IMPL_ORDER), impl)


def size_key(size):
    return (0, int(size)) if size.isdigit() else (1, size)


def table(results, only=None):
    """One row per OP and SIZE (and thread count), one column per implementation; `only`:
    the (op, size) pairs to show, single-threaded."""
    groups = OrderedDict()
    for r in results.values():
        if only is not None and ((r["op"], r["size"]) not in only or r["threads"]):
            continue
        groups.setdefault((r["op"], r["size"], r["threads"]), {})[r["impl"]] = r
    impls = sorted({impl for row in groups.values() for impl in row}, key=impl_key)
    lines = ["| operation | size | " + " | ".join(impls) + " |",
             "|---|---|" + "---|" * len(impls)]
    order = (lambda k: (only.index(k[:2]), k[2])) if only else \
        (lambda k: (k[0], size_key(k[1]), k[2]))
    for (op, size, threads) in sorted(groups, key=order):
        row = groups[(op, size, threads)]
        base = row.get("piicrypt")
        cells = []
        for impl in impls:
            r = row.get(impl)
            if r is None:
                cells.append("")
            elif base is None or impl == "piicrypt":
                cells.append("**%s**" % fmt_time(r["ns"]) if impl == "piicrypt" else fmt_time(r["ns"]))
            else:
                cells.append("%s (%.2fx)" % (fmt_time(r["ns"]), r["ns"] / base["ns"]))
        label = size + (" (%d thread%s, real time)" % (threads, "s" if threads > 1 else "")
                        if threads else "")
        lines.append("| %s | %s | %s |" % (op, label, " | ".join(cells)))
    return "\n".join(lines)


def checks(results):
    lines = ["| figure | ratio of medians | target | met |", "|---|---|---|---|"]
    for what, num, den, bound, kind in CHECKS:
        if num not in results or den not in results:
            lines.append("| %s (`%s` / `%s`) | not measured | %s %s | |" %
                         (what, num, den, "≤" if kind == "max" else "≥", bound))
            continue
        ratio = results[num]["ns"] / results[den]["ns"]
        ok = ratio <= bound if kind == "max" else ratio >= bound
        lines.append("| %s (`%s` / `%s`) | %.2f | %s %s | %s |" %
                     (what, num, den, ratio, "≤" if kind == "max" else "≥", bound,
                      "yes" if ok else "**no**"))
    for what, num, parts, bound in SUM_CHECKS:
        den = "the sum of %s" % ", ".join(sorted({"`%s/%s/order.*`" % tuple(p.split("/")[:2])
                                                   for p in parts}))
        if num not in results or any(p not in results for p in parts):
            lines.append("| %s (`%s` / %s) | not measured | ≤ %s | |" % (what, num, den, bound))
            continue
        ratio = results[num]["ns"] / sum(results[p]["ns"] for p in parts)
        lines.append("| %s (`%s` / %s) | %.2f | ≤ %s | %s |" %
                     (what, num, den, ratio, bound, "yes" if ratio <= bound else "**no**"))
    for what, name, bound in ABSOLUTE:
        if name in results:
            ns = results[name]["ns"]
            lines.append("| %s (`%s`) | %s | ≤ %s | %s |" %
                         (what, name, fmt_time(ns), fmt_time(bound), "yes" if ns <= bound else "**no**"))
    return "\n".join(lines)


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


def plot_ops(results, out):
    impls = sorted({r["impl"] for r in results.values()
                    if (r["op"], r["size"]) in OPS_PLOT and r["threads"] == 0}, key=impl_key)
    dat = os.path.join(out, "ops.dat")
    with open(dat, "w") as f:
        f.write("# op " + " ".join(impls) + "\n")
        for op, size in OPS_PLOT:
            vals = []
            for impl in impls:
                name = "%s/%s/%s" % (op, impl, size)
                vals.append("%.1f" % results[name]["ns"] if name in results else "NaN")
            f.write("%s/%s %s\n" % (op, size, " ".join(vals)))
    cols = ", ".join("'%s' using %d%s title '%s'" % (dat, i + 2, ":xtic(1)" if i == 0 else "", impl)
                  for i, impl in enumerate(impls))
    gnuplot("""
set terminal pngcairo size 1100,520 font 'Sans,10'
set output '%s'
set termoption noenhanced
set title 'Time per operation (median, one thread; lower is better)'
set style data histograms
set xrange [-0.6:%d]
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set yrange [10:*]
set ylabel 'ns per operation (log scale)'
set xtics rotate by 25 right nomirror
set key outside right top
set grid ytics
set datafile missing 'NaN'
plot %s
""" % (os.path.join(out, "ops.png"), len(OPS_PLOT) - 0.4, cols))


def plot_sizes(results, out):
    series = []
    for op in ("FieldEncrypt", "FieldDecrypt"):
        impls = sorted({r["impl"] for r in results.values() if r["op"] == op and r["threads"] == 0
                        and r["size"].isdigit()}, key=impl_key)
        for impl in impls:
            pts = sorted((int(r["size"]), r["ns"]) for r in results.values()
                         if r["op"] == op and r["impl"] == impl and r["threads"] == 0 and r["size"].isdigit())
            pts = [p for p in pts if 8 <= p[0] <= 4096]
            if not pts:
                continue
            dat = os.path.join(out, "size_%s_%s.dat" % (op, impl))
            with open(dat, "w") as f:
                f.writelines("%d %.1f\n" % p for p in pts)
            series.append((op, impl, dat))
    panels = []
    for op, label in (("FieldEncrypt", "encrypt"), ("FieldDecrypt", "decrypt")):
        lines = ", ".join("'%s' using 1:2 with linespoints lw 2 title '%s'" % (dat, impl)
                          for o, impl, dat in series if o == op)
        if lines:
            panels.append("set title 'Field %s (text form) by value size'\nplot %s" % (label, lines))
    gnuplot("""
set terminal pngcairo size 1100,460 font 'Sans,10'
set termoption noenhanced
set output '%s'
set multiplot layout 1,%d
set logscale xy
set xrange [6:5500]
set xlabel 'value size (bytes)'
set ylabel 'ns per value (log scale)'
set xtics ('8' 8, '32' 32, '128' 128, '512' 512, '1 Ki' 1024, '4 Ki' 4096)
set key top left
set grid
%s
unset multiplot
""" % (os.path.join(out, "sizes.png"), max(1, len(panels)), "\n".join(panels)))


def plot_threads(results):
    rows = OrderedDict()
    for name, r in results.items():
        if r["items_per_second"] is None or not r["real"]:
            continue
        key = "%s/%s/%s" % (r["op"], r["impl"], r["size"])
        rows.setdefault(key, {})[r["threads"]] = r["items_per_second"]
    # Sorted by name, so that one operation's implementations stand together whatever order
    # the passes ran in.
    return OrderedDict((k, rows[k]) for k in sorted(rows) if 1 in rows[k] and 2 in rows[k])


def plot_thread_chart(rows, out):
    dat = os.path.join(out, "threads.dat")
    with open(dat, "w") as f:
        f.write("# benchmark 1 2\n")
        for k, v in rows.items():
            f.write("%s %.0f %.0f\n" % (k, v[1], v[2]))
    gnuplot("""
set terminal pngcairo size 1100,480 font 'Sans,10'
set output '%s'
set termoption noenhanced
set title 'Throughput from 1 and 2 threads sharing one object (higher is better)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set ylabel 'operations per second, all threads (log scale)'
set xtics rotate by 25 right nomirror
set key top right
set grid ytics
plot '%s' using 2:xtic(1) title '1 thread', '' using 3 title '2 threads'
""" % (os.path.join(out, "threads.png"), dat))


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: report.py OUT_DIR MACHINE_TEXT_FILE BENCH.json...")
    out, machine = sys.argv[1], open(sys.argv[2]).read().strip()
    os.makedirs(out, exist_ok=True)
    context, results = load(sys.argv[3:])
    plot_ops(results, out)
    plot_sizes(results, out)
    rows = plot_threads(results)
    if rows:
        plot_thread_chart(rows, out)
    thread_table = ["| benchmark | 1 thread | 2 threads | scaling |", "|---|---|---|---|"]
    for k, v in rows.items():
        thread_table.append("| %s | %.0f/s | %.0f/s | %.2fx |" % (k, v[1], v[2], v[2] / v[1]))
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("# piicrypt benchmark report\n\n")
        f.write("Machine and run:\n\n```\n%s\nCPUs seen by the benchmark library: %d at %.0f MHz\n```\n\n" % (
            machine, context.get("num_cpus", 0), context.get("mhz_per_cpu", 0)))
        f.write("Times are medians over the passes (CPU time; real time for benchmarks "
                "marked real_time). A ratio is the implementation's time over piicrypt's for "
                "the same operation and size in this run: above 1, piicrypt is faster.\n\n")
        f.write("## Figures that matter\n\n%s\n\n" % checks(results))
        f.write("## Time per operation\n\n![time per operation](ops.png)\n\n%s\n\n" %
                table(results, OPS_PLOT + [("FieldBlindIndex", "phone"),
                                           ("FieldBlindIndex", "phone_first_seen")]))
        f.write("## Time against value size\n\n![time against value size](sizes.png)\n\n")
        if rows:
            f.write("## 1 and 2 threads\n\n![threads](threads.png)\n\n%s\n\n" % "\n".join(thread_table))
        f.write("## Every benchmark\n\n%s\n" % table(results))
    print("report: %s" % os.path.join(out, "report.md"))


if __name__ == "__main__":
    main()

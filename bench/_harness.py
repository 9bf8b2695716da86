"""What every benchmark module shares: timing, report rows, the environment header and the
command line (``--quick``, ``--repeat``, ``--json``).

Importing this module puts the functrans checkout to measure first on ``sys.path`` (this
repository, or the tree named by ``FUNCTRANS_BENCH_TREE``, which bench/compare.py uses to run
the same workloads against another checkout), and sets ``OPENBLAS_NUM_THREADS=1`` unless the
variable is set already; import it before NumPy. The figures assume the environment of

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/report.py

(one BLAS thread; no OPENBLAS_CORETYPE, which slows NumPy on some machines).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import timeit
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
TREE = os.path.abspath(os.environ.get("FUNCTRANS_BENCH_TREE", REPO))
if sys.path[:1] != [TREE]:
    sys.path.insert(0, TREE)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # read by OpenBLAS when NumPy loads it

COMMAND = ("env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 "
           ".venv/bin/python bench/report.py")
VARIABLES = ("OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
             "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")

#: glibc's allocator settings ``pin_allocator`` starts the benchmark with: arrays up to 32 MiB
#: from the heap, and freed heap memory kept rather than returned to the system.
PINNED_ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def pin_allocator(argv: Sequence[str] | None = None) -> None:
    """Run this benchmark in a process whose allocator state does not depend on its history:
    restart it with ``PINNED_ALLOCATOR`` set, unless a ``MALLOC_*`` threshold is set already
    or ``FUNCTRANS_BENCH_ALLOCATOR=default``.

    glibc serves a large array from a fresh mapping (a page fault per page on first touch,
    often more than the arithmetic) until the process frees one that large, then from the heap.
    Which of the two a workload meets depends on what ran before it in the process (kept
    buffers free nothing), so two rows timed in one process could compare a faulting
    reference with a warm one. Pinned, every large array comes from the heap: the steady state
    of a NumPy training loop, for functrans and the hand-written code alike.
    """
    if os.environ.get("FUNCTRANS_BENCH_ALLOCATOR") == "default" or any(
            name in os.environ for name in PINNED_ALLOCATOR):
        return
    if not sys.platform.startswith("linux"):
        return
    os.environ.update(PINNED_ALLOCATOR)
    args = list(sys.argv if argv is None else argv)
    os.execv(sys.executable, [sys.executable] + args)
UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "MiB": 2.0 ** 20}


# --- timing ----------------------------------------------------------------------------------
def best_times(fns: Sequence[Callable[[], object]], repeat: int,
               sync: Callable[[], object] | None = None, quick: bool = False) -> list[float]:
    """Seconds per call of each function: the best of its calibration run (``timeit``'s
    autorange: at least 0.2 s of calls; 0.02 s when ``quick``) and of ``repeat`` more runs
    of the same number of calls.

    The functions take turns, run after run, so that load from other processes falls on
    all of them alike; the minimum is the least disturbed run. ``sync`` is called after every
    call (a GPU stream's synchronize: device work is asynchronous).
    """
    if sync is not None:
        fns = [_then(fn, sync) for fn in fns]
    timers = [timeit.Timer(fn) for fn in fns]
    numbers, best = [], []
    for timer in timers:
        number, taken = calibrate(timer, quick)
        numbers.append(number)
        best.append(taken / number)
    for _ in range(repeat):
        for i, timer in enumerate(timers):
            best[i] = min(best[i], timer.timeit(numbers[i]) / numbers[i])
    return best


def calibrate(timer: timeit.Timer, quick: bool = False) -> tuple[int, float]:
    """How many calls make a timed run, and how long they took: ``timeit``'s autorange (at
    least 0.2 s of calls), or with ``quick`` a tenth of that (1, 10, 100, ... calls)."""
    if not quick:
        return timer.autorange()
    number = 1
    while True:
        taken = timer.timeit(number)
        if taken >= 0.02:
            return number, taken
        number *= 10


def _then(fn: Callable[[], object], sync: Callable[[], object]) -> Callable[[], None]:
    def call() -> None:
        fn()
        sync()
    return call


def peak_memory(fn: Callable[[], object]) -> tuple[int, object]:
    """The most bytes Python's allocators (NumPy's arrays included) held at once during
    ``fn()``, not counting what was allocated before, and what ``fn()`` returned."""
    tracemalloc.start()
    try:
        result = fn()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


# --- rows ------------------------------------------------------------------------------------
@dataclass
class Row:
    """One line of a report: functrans eager and under jit, and the reference it is compared
    with (the same computation written by hand in NumPy unless ``reference_name`` says
    otherwise), timed in the same process.

    Figures are raw (seconds, or bytes for the unit ``MiB``); a row shows them divided by
    ``count`` (W1: per primitive) in ``unit``. ``target`` bounds the ratios to the reference,
    ``limit`` bounds the eager figure itself (in ``unit``); ``difference`` adds the eager
    figure minus the reference (the overhead of a call).
    """

    name: str
    ours: float | None = None
    jit: float | None = None
    reference: float | None = None
    reference_name: str = "numpy"
    unit: str = "ms"
    count: int = 1
    target: float | None = None
    limit: float | None = None
    difference: bool = False

    def shown(self, raw: float | None) -> float | None:
        """A raw figure in the row's unit, per counted item."""
        return None if raw is None else raw / self.count / UNITS[self.unit]

    def ratio(self, raw: float | None) -> float | None:
        """A raw figure over the reference."""
        return None if raw is None or not self.reference else raw / self.reference

    def target_text(self) -> str:
        """The bounds this row is held to: ``<= 1.2x``, ``<= 80 us``, or nothing."""
        bounds = []
        if self.target is not None:
            bounds.append(f"<= {self.target:g}x")
        if self.limit is not None:
            bounds.append(f"<= {self.limit:g} {self.unit}")
        return ", ".join(bounds)

    def misses(self) -> list[str]:
        """The figures that miss their bound (empty: the row meets its targets)."""
        out = []
        if self.target is not None:
            for label, raw in (("eager", self.ours), ("jit", self.jit)):
                ratio = self.ratio(raw)
                if ratio is not None and ratio > self.target:
                    out.append(f"{label} {ratio:.2f}x")
        ours = self.shown(self.ours)
        if self.limit is not None and ours is not None and ours > self.limit:
            out.append(f"{format_figure(ours)} {self.unit}")
        return out

    def status(self) -> str:
        """``ok``, ``MISSES (...)``, or nothing when the row has no target."""
        if not self.target_text():
            return ""
        misses = self.misses()
        return "ok" if not misses else "MISSES (" + ", ".join(misses) + ")"

    def text(self) -> str:
        """The row as one line of terminal output."""
        unit = self.unit
        parts = [f"{self.name:<50}"]
        for label, raw in (("functrans", self.ours), ("jit", self.jit),
                           (self.reference_name, self.reference)):
            if raw is not None:
                parts.append(f"{label} {self.shown(raw):>9.3f} {unit}")
        for label, raw in (("ratio", self.ours), ("jit", self.jit)):
            ratio = self.ratio(raw)
            if ratio is not None:
                parts.append(f"{label} {ratio:5.2f}x")
        if self.difference and self.ours is not None and self.reference is not None:
            parts.append(f"overhead {self.shown(self.ours - self.reference):7.2f} {unit}")
        if self.target_text():
            parts.append(f"target {self.target_text()}: {self.status()}")
        return "   ".join(parts)


def format_figure(value: float) -> str:
    """A figure with three to four significant digits in the usual ranges."""
    if abs(value) >= 100:
        return f"{value:.1f}"
    if abs(value) >= 10:
        return f"{value:.2f}"
    return f"{value:.3f}"


@dataclass
class Workload:
    """What a row measures: functrans eager, under jit, and the reference, as argument-free
    callables (inputs bound, results already checked against each other, jit already staged).
    ``row`` holds the name, unit and targets; ``measure`` fills in its figures."""

    row: Row
    ours: Callable[[], object] | None = None
    jit: Callable[[], object] | None = None
    reference: Callable[[], object] | None = None


def measure(workload: Workload, options: Options,
            sync: Callable[[], object] | None = None) -> Row:
    """The workload's row with its figures: seconds per call, best of ``options.repeat`` runs."""
    fields = [(name, fn) for name, fn in (("ours", workload.ours), ("jit", workload.jit),
                                          ("reference", workload.reference)) if fn is not None]
    times = best_times([fn for _, fn in fields], options.repeat, sync, options.quick)
    figures = {name: t for (name, _), t in zip(fields, times)}
    return dataclasses.replace(workload.row, **figures)


# --- a module's results ----------------------------------------------------------------------
@dataclass
class Section:
    """One benchmark module's rows and notes, printed as they come and written as JSON for
    bench/report.py."""

    module: str
    about: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    quick: bool = False

    def add(self, row: Row) -> Row:
        print(row.text(), flush=True)
        self.rows.append(row)
        return row

    def note(self, text: str) -> None:
        print(text, flush=True)
        self.notes.append(text)

    @classmethod
    def from_json(cls, data: dict) -> Section:
        rows = [Row(**row) for row in data.pop("rows")]
        return cls(rows=rows, **data)


@dataclass(frozen=True)
class Options:
    """The command line every benchmark module takes."""

    quick: bool  # a smoke run: small sizes, one timed run per figure
    repeat: int  # timed runs per figure after timeit's autorange run
    json: str | None  # where to write the section for bench/report.py


def parse_args(argv: Sequence[str] | None, doc: str, repeat: int = 7) -> Options:
    """``--quick``, ``--repeat N`` and ``--json PATH``; ``doc`` is the module's docstring."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: small sizes, one short timed run per figure")
    parser.add_argument("--repeat", type=int, default=None,
                        help=f"timed runs per figure (default {repeat}; 0 with --quick)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 0 if args.quick else repeat
    return Options(quick=args.quick, repeat=args.repeat, json=args.json)


def main(collect: Callable[[Section, Options], None], module_file: str, doc: str,
         argv: Sequence[str] | None = None, repeat: int = 7) -> int:
    """Run a benchmark module: parse the command line, print the environment, let
    ``collect`` add the rows and notes, write the JSON if asked. Returns the exit status."""
    options = parse_args(argv, doc, repeat)
    print("\n".join(environment_lines()), flush=True)
    section = Section(module=os.path.basename(module_file), about=doc.split("\n\n")[0].strip(),
                      quick=options.quick)
    if options.quick:
        section.note("--quick: a smoke run (small sizes, one short timed run per figure); "
                     "its figures are not the ones the targets are about")
    start = timeit.default_timer()
    collect(section, options)
    section.seconds = timeit.default_timer() - start
    if options.json:
        with open(options.json, "w") as f:
            json.dump(dataclasses.asdict(section), f, indent=1)
    return 0


# --- the environment -------------------------------------------------------------------------
def environment(tree: str | None = TREE) -> dict[str, str]:
    """Python, NumPy, BLAS and its threads, the CPU, the functrans checkout (unless ``tree``
    is None) and the variables the figures depend on."""
    import numpy as np  # here, not at the top: NumPy loads after OPENBLAS_NUM_THREADS is set

    info = {
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "NumPy": np.__version__,
        "BLAS": _blas(),
        "BLAS threads": _blas_threads(),
        "CPU": f"{_cpu_model()}, {os.cpu_count()} logical CPUs",
    }
    if tree is not None:
        info["functrans"] = checkout(tree)
    info["variables"] = " ".join(f"{name}={os.environ.get(name, 'unset')}" for name in VARIABLES)
    return info


def environment_warnings() -> list[str]:
    """How this process differs from the environment the figures assume."""
    out = []
    if "OPENBLAS_CORETYPE" in os.environ:
        out.append("OPENBLAS_CORETYPE is set (it slows NumPy on some machines)")
    threads = _threadpool_blas_threads()
    if threads is None:
        threads = [os.environ.get("OPENBLAS_NUM_THREADS")]
    if any(str(t) != "1" for t in threads):
        out.append(f"BLAS threads {', '.join(map(str, threads))}: the figures assume 1")
    return out


def environment_lines(tree: str | None = TREE) -> list[str]:
    """The environment as lines of terminal output."""
    lines = [f"{key}: {value}" for key, value in environment(tree).items()]
    lines += [f"WARNING: {w}; run as: {COMMAND}" for w in environment_warnings()]
    return lines


def checkout(tree: str) -> str:
    """The functrans tree, its commit, and whether functrans/ has uncommitted changes."""
    try:
        commit = subprocess.run(["git", "-C", tree, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        changed = subprocess.run(["git", "-C", tree, "status", "--porcelain", "--", "functrans"],
                                 capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return tree
    if not commit:
        return tree
    return f"{tree} at {commit}" + (" with uncommitted changes in functrans/" if changed else "")


def _threadpool_blas() -> list[dict] | None:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [info for info in threadpool_info() if info.get("user_api") == "blas"]


def _threadpool_blas_threads() -> list[int] | None:
    infos = _threadpool_blas()
    return None if infos is None else [info["num_threads"] for info in infos]


def _blas() -> str:
    infos = _threadpool_blas()
    if infos:
        return "; ".join(f"{i.get('internal_api')} {i.get('version')} "
                         f"(kernels for {i.get('architecture')})" for i in infos)
    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # the layout of NumPy's build information is not an API
        return "unknown"


def _blas_threads() -> str:
    threads = _threadpool_blas_threads()
    if threads is None:
        return (f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')} "
                "(threadpoolctl is not installed)")
    return ", ".join(map(str, threads)) + " (threadpoolctl)"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()

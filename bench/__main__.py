"""Run the benchmarks named on the command line, or all of them (see bench/__init__.py)."""

import importlib
import pkgutil
import sys

import bench


def available() -> list[str]:
    """Benchmark module names, in the order they run."""
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))


def run(names: list[str]) -> int:
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"bench: no benchmark {', '.join(unknown)} (have: {', '.join(available())})",
              file=sys.stderr)
        return 2
    status = 0
    for name in names or available():
        print(f"== bench.{name}", flush=True)
        status = max(status, importlib.import_module(f"bench.{name}").main() or 0)
        print(flush=True)
    return status


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))

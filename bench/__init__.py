"""Benchmarks: `make bench` runs `python -m bench`.

Every module bench/<name>.py (not starting with "_") is a benchmark with one
entry point:

    def main() -> int | None:
        '''Run the benchmark and print its results.'''

`python -m bench` imports and runs them all in name order, each under a
"== bench.<name>" heading; `python -m bench formats crew` runs the ones
named. A benchmark measures its own baseline in the same process and prints
its rates as ratios against it, with the project's target beside them, so
that a loaded machine shows in both numbers. main() may return a nonzero
status when a target is missed; `python -m bench` then exits with the
largest one after running the rest. Benchmarks are not tests: nothing under
tests/ runs them.
"""

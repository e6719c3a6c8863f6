"""The source tree xenrr runs from: what it holds besides the package.

hypervisor-patches/ (built by the lab) and dom0-tools/ (installed into dom0
by `xenrr install-hooks`) are files of the repository, not of the Python
package, so xenrr finds them beside the package: it runs from its source
tree (`pip install -e`, as `make` installs it).
"""

from pathlib import Path


def source_dir() -> Path:
    return Path(__file__).resolve().parents[1]

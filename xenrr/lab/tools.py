"""Checks for the host tools the lab needs, with the Debian package to install."""

import shutil

from xenrr.errors import LabError


def require(tool: str, package: str) -> str:
    """The path of `tool`, or a LabError saying which Debian package provides it."""
    path = shutil.which(tool)
    if path is None:
        raise LabError(f"{tool} not found: install the Debian package {package} "
                       "(`make deps` installs everything the lab needs)")
    return path

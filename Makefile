# `make demo` and `make test` set up everything they need on a Debian bookworm
# machine (as root): the Debian packages of the lab, a virtualenv with xenrr
# installed in editable mode, and the patched hypervisor (cached by its inputs).

PYTHON ?= /usr/bin/python3
VENV   := .venv
XENRR  := $(VENV)/bin/xenrr
STAMP  := $(VENV)/.installed

.PHONY: demo test unit lab bench deps debian-packages root xen clean

demo: deps xen
	$(XENRR) lab demo

test: deps xen
	$(VENV)/bin/pytest -ra --durations=20

unit: debian-packages $(STAMP)
	$(VENV)/bin/pytest -ra -m "not lab"

lab: deps xen
	$(VENV)/bin/pytest -ra -m lab --durations=20

bench: deps xen
	$(VENV)/bin/python -m bench

deps: root debian-packages $(STAMP)

root:
	@[ "$$(id -u)" = 0 ] || { echo "xenrr: make demo and make test need root (the lab installs Debian packages and boots Xen with the host's root as dom0's)" >&2; exit 1; }

debian-packages:
	@scripts/install-debian-packages

# libvirt-python builds from source against libvirt-dev (a Debian package).
# The tree goes on sys.path (editable_mode=compat) rather than behind an import
# hook, which every Python start in the lab's dom0 would pay for under TCG.
$(STAMP): setup.cfg pyproject.toml Makefile | debian-packages
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[test]' \
		--config-settings editable_mode=compat
	touch $@

xen: $(STAMP)
	$(XENRR) lab build

clean:
	rm -rf $(VENV) build *.egg-info

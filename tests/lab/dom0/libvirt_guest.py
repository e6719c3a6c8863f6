"""Run inside the lab's dom0: start a libvirt domain and let it run for a while.

Usage: python libvirt_guest.py NAME SECONDS. Starts the defined domain NAME
through libvirt (xen:///system), waits until it is shut off or SECONDS
pass, then destroys it if it still runs. Prints JSON: whether it started
(and libvirt's error if not), how long it ran, whether it had to be
destroyed.
"""

import json
import sys
import time

import libvirt

libvirt.registerErrorHandler(lambda *_: None, None)
name, seconds = sys.argv[1], float(sys.argv[2])
conn = libvirt.open("xen:///system")
dom = conn.lookupByName(name)
started = time.monotonic()
try:
    dom.create()
except libvirt.libvirtError as e:
    print(json.dumps({"started": False, "error": e.get_error_message()}))
    sys.exit(0)
while dom.isActive() and time.monotonic() - started < seconds:
    time.sleep(1)
destroyed = bool(dom.isActive())
if destroyed:
    try:
        dom.destroy()
    except libvirt.libvirtError:
        # It shut itself off between the two calls: it was not destroyed.
        if dom.isActive():
            raise
        destroyed = False
print(json.dumps({"started": True, "seconds": round(time.monotonic() - started, 1),
                  "destroyed": destroyed}))

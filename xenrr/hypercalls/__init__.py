"""The only code in xenrr that talks to Xen: privcmd, hypercall buffers, the rr domctl.

abi.py holds the one definition of every struct and constant; the other
modules are one per interface (privcmd, domctl, rr, xenver, xenstore, resource:
mapping Xen's pages such as the log rings, foreign: reading a PV domain's
frames by mfn, evtchn: event channels).
"""

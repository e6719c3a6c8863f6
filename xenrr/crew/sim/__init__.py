"""The model run as a machine: actors recorded under an interleaving and replayed.

The ordering argument of seeds/001 is tested here before, and beside, the
hypervisor's code: random programs are recorded through CREW, their logs
checked, and replayed under the logged constraints only.

    program.py    what simulated actors execute: reads and writes of words of frames
    recording.py  recording: vCPUs under an interleaving through CREW -> a log
    devices.py    a DMA device as an actor: transactions that take their frames whole
    schedule.py   replay ordering: when an actor may pass a position
    replaying.py  replay: the recorded streams under the logged constraints only
"""

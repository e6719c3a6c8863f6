"""Recording domains that libvirt manages with its libxl driver.

metadata.py: the mark a domain carries; mark.py: setting it through
libvirt-python; hook.py: the hook libvirt runs; recorder.py: the recorder
the hook leaves behind; lock.py: how the two find each other; install.py:
putting the hook where libvirt looks.
"""

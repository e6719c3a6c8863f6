"""Recording domains that libvirt manages with its libxl driver.

metadata.py: the mark a domain carries; mark.py: setting it through
libvirt-python.
"""

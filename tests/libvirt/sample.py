"""The sample domain: XML as libvirt's libxl driver gives it to the hook at "start begin"."""

from pathlib import Path

XML = (Path(__file__).resolve().parent / "domain.xml").read_text()
UUID = "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
NS = "urn:xenrr:record:1"


def marked(attributes: str, xml: str = XML) -> str:
    """The XML with <xenrr:record ATTRIBUTES/> in <metadata>, where libvirt puts it."""
    element = f'<xenrr:record xmlns:xenrr="{NS}" {attributes}/>'
    return xml.replace("</uuid>\n", f"</uuid>\n  <metadata>\n    {element}\n  </metadata>\n", 1)

"""Turn a standalone SVG file from matplotlib into an element that can sit inline in an HTML page.

A standalone file carries what an inline chart must not: an XML prolog and a DOCTYPE that names a remote
DTD, RDF metadata, a `<style>` that would apply to the whole page, clip paths referenced through `url(...)`,
and ids such as `patch_1` that every chart repeats. The chart is parsed and serialised again by the XML
library, so all of its text stays escaped, and nothing outside the chart is referenced.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_URL_FRAGMENT = re.compile(r"url\(#([^)]+)\)")


def _tag(name: str) -> str:
    return f"{{{SVG_NS}}}{name}"


def inline_svg(document: str, chart_id: str, title: str) -> str:
    """The `<svg>` element of `document`, made self-contained and accessible under `title`.

    Referenced ids are prefixed with `chart_id` (unique in the page); unreferenced ids are dropped. The
    element gets a `<title>`, `role="img"` and an `aria-label`; it keeps its natural size (the page's style
    may shrink it to fit, never enlarge it), so text is the same size in every chart.
    """
    root = ET.fromstring(document)  # noqa: S314 - the document is matplotlib's output, never outside input
    _strip(root)
    referenced: set[str] = set()
    for element in root.iter():
        href = element.attrib.pop(_XLINK_HREF, None)
        if href is not None:
            element.set("href", href)  # SVG 2 spelling: an HTML parser needs no namespace for it
        if href is not None and href.startswith("#"):
            referenced.add(href[1:])
        for value in element.attrib.values():
            referenced.update(_URL_FRAGMENT.findall(value))
    for element in root.iter():
        own = element.attrib.pop("id", None)
        if own in referenced:
            element.set("id", f"{chart_id}-{own}")
        for key, value in list(element.attrib.items()):
            if key == "href" and value.startswith("#"):
                element.set(key, f"#{chart_id}-{value[1:]}")
            elif "url(#" in value:
                element.set(key, _URL_FRAGMENT.sub(lambda match: f"url(#{chart_id}-{match[1]})", value))

    root.attrib.pop("version", None)
    root.set("id", chart_id)
    root.set("class", "chart")
    root.set("role", "img")
    root.set("aria-label", title)
    heading = ET.Element(_tag("title"))
    heading.text = title
    root.insert(0, heading)
    _local_names(root)
    _compact(root)
    return ET.tostring(root, encoding="unicode")


def _local_names(root: ET.Element) -> None:
    """Drop the SVG namespace from every tag: inside HTML the parser puts `<svg>` and its content in it."""
    for element in root.iter():
        element.tag = element.tag.removeprefix(f"{{{SVG_NS}}}")
        for key in [key for key in element.attrib if key.startswith("{")]:
            del element.attrib[key]


def _compact(parent: ET.Element) -> None:
    """Unwrap groups that carry no attribute and drop indentation: the same drawing in fewer bytes."""
    children: list[ET.Element] = []
    for child in parent:
        _compact(child)
        if child.tag == "g" and not child.attrib:
            children.extend(child)
        else:
            children.append(child)
    parent[:] = children
    for element in [parent, *children]:
        if element.tail is not None and not element.tail.strip():
            element.tail = None
    if parent.text is not None and not parent.text.strip():
        parent.text = None


def _strip(root: ET.Element) -> None:
    """Remove metadata, style sheets and clip paths (every bar is drawn inside its axes anyway)."""
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in {_tag("metadata"), _tag("style"), _tag("clipPath")}:
                parent.remove(child)
        parent.attrib.pop("clip-path", None)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == _tag("defs") and len(child) == 0:
                parent.remove(child)

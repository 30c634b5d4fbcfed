"""An HTML page as an ElementTree, read by the standard library's HTML parser, to find elements in
with ElementTree's paths (`.//section[@class='search-group']`)."""

import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser

# Elements that have no end tag.
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = ElementTree.Element("document")
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list) -> None:
        element = ElementTree.SubElement(self.open[-1], tag, {name: value or "" for name, value in attrs})
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        parent = self.open[-1]
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + data
        else:
            parent.text = (parent.text or "") + data


def html_tree(text: str) -> ElementTree.Element:
    """The page `text` as a tree; its root holds the <html> element."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def text_of(element: ElementTree.Element) -> str:
    """All the text inside `element`, trimmed."""
    return "".join(element.itertext()).strip()

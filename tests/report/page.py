"""Read a rendered report back as the HTML parser of the standard library sees it: text by id, table rows,
every tag and attribute."""

from __future__ import annotations

from collections import defaultdict
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """A parsed page: `texts[id]` is the text inside the element with that id; `rows[id]` the rows of that
    table, each a list of cell texts; `tags` every start tag with its attributes, in order."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: dict[str, str] = defaultdict(str)
        self.rows: dict[str, list[list[str]]] = defaultdict(list)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._open: list[tuple[str, str | None]] = []
        self._table: list[str] = []
        self.feed(html)
        self.close()
        for key, value in list(self.texts.items()):
            self.texts[key] = " ".join(value.split())
        for table in self.rows.values():
            for row in table:
                row[:] = [" ".join(cell.split()) for cell in row]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag in {"br", "li"}:
            self.handle_data(" ")  # a line break between two texts reads as a space
        if tag in VOID:
            return
        self._open.append((tag, attributes.get("id")))
        if tag == "table":
            self._table.append(attributes.get("id") or "")
        elif tag == "tr" and self._table:
            self.rows[self._table[-1]].append([])
        elif tag in {"td", "th"} and self._table:
            self.rows[self._table[-1]][-1].append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            name, _ = self._open.pop()
            if name == "table" and self._table:
                self._table.pop()
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, element_id in self._open:
            if element_id:
                self.texts[element_id] += data
        if self._table and self.rows[self._table[-1]] and self._in_cell():
            self.rows[self._table[-1]][-1][-1] += data

    def _in_cell(self) -> bool:
        for name, _ in reversed(self._open):
            if name in {"td", "th"}:
                return True
            if name == "table":
                return False
        return False

    def body_rows(self, table: str) -> list[list[str]]:
        """The rows of a table without its heading row."""
        return self.rows[table][1:]

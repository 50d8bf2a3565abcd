"""What a buyer reads on a page: its text without tags, attributes or scripts.

An absence check on the raw HTML can fail by chance: a short word such as "VAT" turns up in a
page's random CSRF token about once in four thousand pages. Checking what the page says instead
makes "not shown" mean not shown."""

from html.parser import HTMLParser

from django.http import HttpResponse

_UNREAD = {"script", "style", "template"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._unread_depth = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in _UNREAD:
            self._unread_depth += 1

    def handle_endtag(self, tag) -> None:
        if tag in _UNREAD and self._unread_depth:
            self._unread_depth -= 1

    def handle_data(self, data) -> None:
        if not self._unread_depth:
            self.parts.append(data)


def page_text(page: HttpResponse | str) -> str:
    """The visible text of a response or of its HTML, runs of white space
    (no-break spaces too) made single spaces."""
    collector = _TextCollector()
    collector.feed(page if isinstance(page, str) else page.content.decode())
    collector.close()
    return " ".join(" ".join(collector.parts).split())

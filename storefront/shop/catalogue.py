"""The catalogue's pages, each costing the same however large the catalogue is.

Items are listed by name (then pk), read through the index `item_name` on (name, id). The first
NUMBERED_PAGES pages have numbers (`?page=3`): reaching one skips at most that many pages of
the index, and how many there are is a count bounded by them (never the table's). Past them, a
page is found by where the one before it ended (`?after=<pk>`: the items after that one, a
range of the index) or began (`?before=<pk>`), and `?page=last` is the last page, read from the
index's other end. Django's Paginator counts the whole table and skips `OFFSET` rows, both of
which grow with the catalogue, so it is used here only to lay out the numbered links.
"""

from dataclasses import dataclass, field

from django.core.paginator import Paginator

from storefront.models import Item
from storefront.plumbing.page_cache import shop_value

#: Pages reachable by number; the rest are reached by Next, Previous and Last.
NUMBERED_PAGES = 10
ELLIPSIS = Paginator.ELLIPSIS


@dataclass(frozen=True)
class PageLink:
    label: str
    url: str | None = None  # None: the current page, or an ellipsis
    current: bool = False


@dataclass(frozen=True)
class CataloguePage:
    items: list[Item]
    number: int | None  # None past the numbered pages
    links: list[PageLink] = field(default_factory=list)
    previous_url: str | None = None
    next_url: str | None = None

    @property
    def has_other_pages(self) -> bool:
        return bool(self.previous_url or self.next_url)


def item_for_sale(item_id: int) -> Item | None:
    """Item `item_id` as its page shows it, or None: kept beside the pages and out of date with
    them (page_cache.shop_value), so a buy-now click reads no item and is charged what the page
    showed. A row deleted since in a way the pages were not told of (a shell) is caught where
    the order is made (page_cache.kept_values_written)."""
    return shop_value(("item-for-sale", item_id), lambda: Item.objects.filter(pk=item_id).first())


def _ordered():
    return Item.objects.order_by("name", "pk")


def _after(cursor: Item):
    """The items after `cursor` in the catalogue's order: a range of the index from its name
    (`name >= %s`), less the few of the same name at or before it."""
    return _ordered().filter(name__gte=cursor.name).exclude(name=cursor.name, pk__lte=cursor.pk)


def _before(cursor: Item):
    """The items before `cursor`, nearest first."""
    return (
        Item.objects.order_by("-name", "-pk")
        .filter(name__lte=cursor.name)
        .exclude(name=cursor.name, pk__gte=cursor.pk)
    )


def _cursor(value: str | None) -> Item | None:
    if not value or not value.isdecimal():
        return None
    return Item.objects.filter(pk=int(value)).only("pk", "name").first()


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def catalogue_page(
    *, page: str | None, after: str | None, before: str | None, size: int
) -> CataloguePage:
    """The page the query string asks for: `page` (a number, or "last"), or the page `after`
    or `before` an item. A page number past the end is the last numbered page, anything else
    unreadable the first page; a cursor naming no item is the first page."""
    if cursor := _cursor(after):
        rows = list(_after(cursor)[: size + 1])
        if rows:
            return _keyset_page(rows[:size], more_after=len(rows) > size, more_before=True)
    elif cursor := _cursor(before):
        rows = list(_before(cursor)[: size + 1])
        if len(rows) > size:
            return _keyset_page(rows[:size][::-1], more_after=True, more_before=True)
    elif page == "last":
        found = _bounded_count(size)
        if found > size * NUMBERED_PAGES:
            rows = list(Item.objects.order_by("-name", "-pk")[:size])
            return _keyset_page(rows[::-1], more_after=False, more_before=True)
        return _numbered_page(NUMBERED_PAGES, size, found=found)
    return _numbered_page(_page_number(page), size)


def _bounded_count(size: int) -> int:
    """How many items there are, counting no further than one past the numbered pages."""
    return _ordered()[: size * NUMBERED_PAGES + 1].count()


def _numbered_page(number: int, size: int, *, found: int | None = None) -> CataloguePage:
    bound = size * NUMBERED_PAGES
    if found is None:
        found = _bounded_count(size)
    more = found > bound  # all the links need to know of what lies past the numbered pages
    layout = Paginator(range(min(found, bound)), size, allow_empty_first_page=True)
    number = min(number, layout.num_pages)
    start = (number - 1) * size
    items = list(_ordered()[start : start + size])
    links = [
        PageLink(str(n)) if n == ELLIPSIS else PageLink(str(n), f"?page={n}", n == number)
        for n in layout.get_elided_page_range(number, on_each_side=2, on_ends=1)
    ]
    if more:
        links += [PageLink(ELLIPSIS), PageLink("Last", "?page=last")]
    if number < layout.num_pages:
        next_url = f"?page={number + 1}"
    elif more and items:
        next_url = f"?after={items[-1].pk}"
    else:
        next_url = None
    return CataloguePage(
        items=items,
        number=number,
        links=links,
        previous_url=f"?page={number - 1}" if number > 1 else None,
        next_url=next_url,
    )


def _keyset_page(items: list[Item], *, more_after: bool, more_before: bool) -> CataloguePage:
    return CataloguePage(
        items=items,
        number=None,
        links=[PageLink("1", "?page=1"), PageLink(ELLIPSIS), PageLink("Last", "?page=last")],
        previous_url=f"?before={items[0].pk}" if more_before else None,
        next_url=f"?after={items[-1].pk}" if more_after else None,
    )

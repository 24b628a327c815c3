"""Pagination for lists of hundreds of thousands of rows."""

from django.core.paginator import Paginator


class CountedPaginator(Paginator):
    """A ``Paginator`` told its row count when the page already knows it (the status or queue counts
    shown beside the list), so the list does not count the same rows a second time."""

    def __init__(self, object_list, per_page, *, count: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        if count is not None:
            self.__dict__["count"] = count  # fills the cached_property

import functools

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination

from rcm.paging import CountedPaginator


class StandardPagination(PageNumberPagination):
    """Pages of 50 (up to 500 with ``page_size``). A view that already knows how many rows its list has
    (``known_count()`` returning a number) spares the list a second count of them."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        known = view.known_count() if view is not None and hasattr(view, "known_count") else None
        self.django_paginator_class = functools.partial(CountedPaginator, count=known)
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:
            # A page that does not exist is a bad query parameter (400, documented on every list by
            # ``rcm.api.schema.document_page_errors``), not a missing resource.
            raise ValidationError({self.page_query_param: [str(exc.detail)]}) from None

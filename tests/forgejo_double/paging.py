"""Forgejo's pagination: `page` (1-based, below 1 means 1) and `limit` (default 30, at most
50), answered with `X-Total-Count` and, for most lists, a `Link` header whose entries
(`next`, `last`, `first`, `prev`) are joined by "," without a space."""

from urllib.parse import urlencode

DEFAULT_PAGING_NUM = 30
MAX_RESPONSE_ITEMS = 50


def _int(text, default):
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def page_and_limit(query):
    """The page and page size a request asks for, as Forgejo reads them."""
    page = max(1, _int(query.get("page"), 1))
    limit = _int(query.get("limit"), 0)
    if limit <= 0:
        limit = DEFAULT_PAGING_NUM
    return page, min(limit, MAX_RESPONSE_ITEMS)


def paginate(items, query, app_url, path, link=True):
    """One page of `items` and the headers Forgejo sends with it."""
    page, limit = page_and_limit(query)
    total = len(items)
    chunk = items[(page - 1) * limit : page * limit]
    headers = {"X-Total-Count": str(total)}
    if link:
        pages = max(1, -(-total // limit))
        links = []

        def url(p):
            q = dict(query)
            q["page"] = str(p)
            return f"<{app_url}{path.lstrip('/')}?{urlencode(sorted(q.items()))}>"

        if page < pages:
            links.append(f'{url(page + 1)}; rel="next"')
            links.append(f'{url(pages)}; rel="last"')
        if page > 1:
            links.append(f'{url(1)}; rel="first"')
            links.append(f'{url(page - 1)}; rel="prev"')
        if links:
            headers["Link"] = ",".join(links)
    return chunk, headers

"""How xinbao writes every workbook (the notice's, the annual report's): XlsxWriter's options."""

from __future__ import annotations

# Built in memory. Cell text is text: a draft's title (or a unit's name) starting with "=" or
# "http://" stays what was written, neither a formula nor a link. In memory XlsxWriter stamps the
# zip entries 1980-01-01, so the same content gives the same bytes.
WORKBOOK_OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}

"""One module per area of the API, each a `Routes` table; `openapi.areas()` lists them all for the document."""

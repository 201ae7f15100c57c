"""One module per area of the API, each a `Routes` table; `openapi.AREAS` lists them all for the document."""

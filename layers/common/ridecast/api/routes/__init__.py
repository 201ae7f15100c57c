"""One module per area of the API, each a `Routes` table; `ALL` is every area, for the OpenAPI document."""

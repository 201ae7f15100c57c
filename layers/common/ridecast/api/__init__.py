"""The HTTP API: request and response models (`models`), who may call each route (`callers`), how a body is
read (`bodies`), the routes themselves (one module per area under `routes/`), the one place where errors
become HTTP answers (`errors`), and how a function serves its routes (`routing`).

A function under `functions/` serves its area with `routing.resolver(area)` and `routing.http_handler`;
GET /openapi.json registers every area on one resolver to describe the whole API.
"""

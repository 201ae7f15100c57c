"""The HTTP API: request and response models, who may call each route, the routes themselves (one module
per area under `routes/`), and the one place where errors become HTTP answers.

Each function under `functions/` serves its area's routes with `ridecast.api.resolver.serve`; the
`/openapi.json` function registers every area on one resolver to describe the whole API.
"""

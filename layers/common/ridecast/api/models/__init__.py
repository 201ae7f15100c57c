"""The HTTP API's request and response models, one module per area (`base` holds what the areas share).

Import a model from its area's module: this package imports none of them, so a function loads only its own
area's models (cold start, SPEC §7).
"""

"""The OpenAPI 3.1 description of the intake API, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

AMOUNT = {
    "description": (
        "Money. A decimal string is in rubles ('1500', '1500.50', '12 500,50 ₽'): digits grouped "
        "by three with a space, no-break or narrow no-break space, kopecks (one or two digits) "
        "after a comma or point, an optional ₽. '1,500' is refused as ambiguous. A JSON integer "
        "is in kopecks (150050). Floats are refused. Stored as integer kopecks."
    ),
    "oneOf": [
        {
            "type": "string",
            "pattern": r"^([0-9]{1,11}|[1-9][0-9]{0,2}([ \u00a0\u202f][0-9]{3}){1,3})"
            r"([.,][0-9]{1,2})?([ \u00a0\u202f]?₽)?$",
            "example": "1500.50",
        },
        {"type": "integer", "minimum": 0, "example": 150050},
    ],
}

EXAMPLE = {
    "external_id": "shop-10042",
    "number": "10042",
    "customer": {
        "name": "Иван Петров",
        "phone": "+7 900 123-45-67",
        "email": "ivan@example.com",
        "address": "Москва, ул. Ленина, 1",
    },
    "items": [{"title": "Чайник", "qty": 2, "price": "1500.00"}],
    "total": "3000.00",
    "currency": "RUB",
    "created_at": "2026-11-22T12:00:00+03:00",
    "comment": "Позвонить до обеда",
}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _retry_later(description: str) -> dict[str, Any]:
    retry_after = {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    }
    return {**_error_response(description), "headers": {"Retry-After": retry_after}}
def _with_update(document: dict[str, Any]) -> dict[str, Any]:
    """PUT's body: NewOrder without a required external_id (the path has it), plus its two."""
    schemas = document["components"]["schemas"]
    new_order = schemas["NewOrder"]
    schemas["OrderUpdate"] = {
        "type": "object",
        "required": [r for r in new_order["required"] if r != "external_id"],
        "properties": {
            **new_order["properties"],
            "external_id": {
                **new_order["properties"]["external_id"],
                "description": "Optional; if given, the one in the path",
            },
            "status": {
                "type": "string",
                "enum": ["open", "cancelled"],
                "description": "cancelled: the store cancelled the order",
            },
            "updated_at": {
                "type": "string",
                "format": "date-time",
                "description": "The store's version of the order; needs a UTC offset",
            },
        },
    }
    return document


def openapi_document() -> dict[str, Any]:
    return _with_update(_document())


def _document() -> dict[str, Any]:
    order_ref = {"$ref": "#/components/schemas/Order"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ShopDesk intake API",
            "version": "1.0.0",
            "description": (
                "Send the store's orders to ShopDesk. Each account has one API token (`/apitoken` "
                "in the bot, or `python -m bot account token ACCOUNT_ID`); a new one revokes the "
                "old. Orders are idempotent by `external_id`: a repeat with the same values "
                "returns the stored order with 200 and changes nothing, also when repeats arrive "
                "at the same moment (one 201, the rest 200); the same `external_id` with other "
                "values is refused with 409 `external_id_conflict`, `fields` naming what differs."
            ),
        },
        "paths": {
            "/api/v1/orders": {
                "post": {
                    "summary": "Create an order (idempotent by external_id)",
                    "security": [{"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "description": "At most 64 KiB of JSON.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/NewOrder"},
                                "example": EXAMPLE,
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Created",
                            "content": {"application/json": {"schema": order_ref}},
                        },
                        "200": {
                            "description": "Already received: the stored order",
                            "content": {"application/json": {"schema": order_ref}},
                        },
                        "400": _error_response("The body is not valid JSON"),
                        "401": _error_response("Missing, unknown or revoked token"),
                        "409": _error_response(
                            "`order_number_taken`: the number belongs to another order "
                            "(`field`: number); `external_id_conflict`: an order with this "
                            "external_id was received with other values (`fields` names them)"
                        ),
                        "413": _error_response("The body exceeds 64 KiB"),
                        "422": _error_response("A field is missing or invalid (`field` names it)"),
                        "429": _retry_later(
                            "`rate_limited`: this token's account sent more than its requests a "
                            "minute (INTAKE_PER_MINUTE); `too_many_failures`: this client "
                            "address sent too many requests without a valid token "
                            "(INTAKE_FAILURES_PER_MINUTE), refused before the token is looked "
                            "up. Counted for all ShopDesk processes together"
                        ),
                        "503": _retry_later(
                            "`unavailable`: the rate limits cannot be checked just now"
                        ),
                    },
                }
            },
            "/api/v1/orders/{external_id}": {
                "put": {
                    "summary": "Create or update the order with this external_id",
                    "description": (
                        'The document of POST, plus `status` ("cancelled" cancels the order; '
                        "ShopDesk's team sets the other statuses) and `updated_at` (the store's "
                        "version). An `updated_at` older than the one applied last changes "
                        "nothing (`outcome`: stale); the same content again changes nothing "
                        "(`outcome`: unchanged). A change is in the order's log as made by the "
                        "store, and its assignee is told. The number of an existing order stays."
                    ),
                    "security": [{"bearer": []}],
                    "parameters": [
                        {
                            "name": "external_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "maxLength": 128},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/OrderUpdate"},
                                "example": {
                                    **{k: v for k, v in EXAMPLE.items() if k != "external_id"},
                                    "status": "cancelled",
                                    "updated_at": "2026-11-22T13:00:00+03:00",
                                },
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Created (`outcome`: created)",
                            "content": {"application/json": {"schema": order_ref}},
                        },
                        "200": {
                            "description": "`outcome`: updated, unchanged or stale",
                            "content": {"application/json": {"schema": order_ref}},
                        },
                        "400": _error_response("The body is not valid JSON"),
                        "401": _error_response("Missing, unknown or revoked token"),
                        "409": _error_response(
                            "`order_number_taken`: a new order's number belongs to another order"
                        ),
                        "413": _error_response("The body exceeds 64 KiB"),
                        "422": _error_response("A field is missing or invalid (`field` names it)"),
                        "429": _retry_later("As for POST /api/v1/orders"),
                        "503": _retry_later(
                            "`unavailable`: the rate limits cannot be checked just now"
                        ),
                    },
                }
            },
            "/livez": {
                "get": {
                    "summary": "Liveness: 200 while the process runs",
                    "responses": {"200": {"description": "OK"}},
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: 200 when the database and Redis (if set) answer",
                    "responses": {
                        "200": {"description": "OK; the body names each check"},
                        "503": {"description": "A check failed; the body names it"},
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "The older name of /readyz",
                    "responses": {
                        "200": {"description": "OK; the body names each check"},
                        "503": {"description": "A check failed; the body names it"},
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "NewOrder": {
                    "type": "object",
                    "required": ["external_id", "number", "customer", "total"],
                    "properties": {
                        "external_id": {
                            "type": "string",
                            "maxLength": 128,
                            "description": "The store's id of the order; the idempotency key",
                        },
                        "number": {
                            "type": "string",
                            "maxLength": 64,
                            "description": "Shown to people; one word, unique in the account",
                        },
                        "customer": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string", "maxLength": 200},
                                "phone": {"type": "string", "maxLength": 40},
                                "email": {"type": "string", "format": "email"},
                                "address": {"type": "string", "maxLength": 500},
                            },
                        },
                        "items": {
                            "type": "array",
                            "maxItems": 200,
                            "items": {
                                "type": "object",
                                "required": ["title", "qty", "price"],
                                "properties": {
                                    "title": {"type": "string", "maxLength": 200},
                                    "qty": {"type": "integer", "minimum": 1, "maximum": 100000},
                                    "price": AMOUNT,
                                },
                            },
                        },
                        "total": AMOUNT,
                        "currency": {
                            "type": "string",
                            "pattern": "^[A-Z]{3}$",
                            "description": "Default: the account's currency (RUB)",
                        },
                        "created_at": {
                            "type": "string",
                            "format": "date-time",
                            "description": "When the store took the order; needs a UTC offset",
                        },
                        "comment": {"type": "string", "maxLength": 2000},
                    },
                },
                "Order": {
                    "type": "object",
                    "properties": {
                        "outcome": {
                            "type": "string",
                            "enum": ["created", "updated", "unchanged", "stale"],
                            "description": "PUT only",
                        },
                        "id": {"type": "integer"},
                        "number": {"type": "string"},
                        "external_id": {"type": "string"},
                        "status": {
                            "type": "string",
                            "enum": ["new", "in_progress", "completed", "cancelled"],
                        },
                        "total": {"type": "integer", "description": "kopecks"},
                        "currency": {"type": "string"},
                        "assigned": {"type": "boolean"},
                        "created_at": {"type": "string", "format": "date-time"},
                    },
                },
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string", "example": "invalid_field"},
                                "field": {"type": "string", "example": "customer.phone"},
                                "fields": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                    "description": (
                                        "external_id_conflict: the fields whose values differ "
                                        "from the stored order's"
                                    ),
                                    "example": ["customer.name", "total"],
                                },
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
            },
        },
    }

"""GET /insights/spread: a campaign's spread summary (docs/insights.md, "Definitions")."""

from typing import Any

from . import STRING, Operation, Path, item_response, obj, ref

NUMBER = {"type": "number"}
INTEGER = {"type": "integer", "minimum": 0}
INTERVAL = {"type": "array", "items": NUMBER, "minItems": 2, "maxItems": 2}
NULLABLE_NUMBER = {"type": ["number", "null"]}
NULLABLE_INTERVAL = {"type": ["array", "null"], "items": NUMBER, "minItems": 2, "maxItems": 2}
DATE_OR_NULL = {"type": ["string", "null"], "format": "date"}

CHANNEL = obj(
    {
        "label": STRING,
        "recruits": INTEGER,
        "k_factor": NUMBER,
        "k_factor_interval": INTERVAL,
        "visits": {
            "type": ["integer", "null"],
            "description": "share-link visits through the channel; null while not recorded",
        },
        "conversions": INTEGER,
        "conversion_rate": NULLABLE_NUMBER,
    },
    ["recruits", "k_factor", "k_factor_interval", "visits", "conversions"],
)

SCHEMAS = {
    "SpreadSummary": obj(
        {
            "campaign": {"type": "string", "description": "the campaign's slug"},
            "since": DATE_OR_NULL,
            "until": DATE_OR_NULL,
            "participants": INTEGER,
            "roots": INTEGER,
            "recruits": INTEGER,
            "k_factor": NUMBER,
            "k_factor_interval": INTERVAL,
            "by_channel": {"type": "object", "additionalProperties": CHANNEL},
            "generations": {
                "type": "array",
                "items": INTEGER,
                "description": "people per generation; index = generation (0: roots)",
            },
            "k_by_generation": {"type": "array", "items": NULLABLE_NUMBER},
            "k_by_generation_interval": {"type": "array", "items": NULLABLE_INTERVAL},
            "max_depth": INTEGER,
            "cascades": INTEGER,
            "cascade_sizes": {"type": "object", "additionalProperties": INTEGER},
            "cascade_depths": {"type": "object", "additionalProperties": INTEGER},
            "structural_virality": NUMBER,
            "largest_cascades": {
                "type": "array",
                "items": obj(
                    {
                        "root_id": {"type": "integer"},
                        "size": INTEGER,
                        "depth": INTEGER,
                        "structural_virality": NUMBER,
                    }
                ),
            },
            "time_to_first_recruit": obj(
                {
                    "people": INTEGER,
                    "median_hours": NULLABLE_NUMBER,
                    "buckets": {"type": "object", "additionalProperties": INTEGER},
                }
            ),
            "backtest": {
                "type": ["object", "null"],
                "description": "the spread model's backtest ({predicted, observed, error, …}); "
                "null when there is too little history",
            },
            "_links": {"type": "object", "additionalProperties": True},
        },
        [
            "campaign",
            "participants",
            "roots",
            "recruits",
            "k_factor",
            "k_factor_interval",
            "by_channel",
            "generations",
            "k_by_generation",
            "max_depth",
            "cascades",
            "structural_virality",
            "backtest",
        ],
    )
}

QUERY: list[dict[str, Any]] = [
    {
        "name": "campaign",
        "in": "query",
        "required": True,
        "description": "the campaign's slug, id or uuid",
        "schema": {"type": "string"},
    },
    {
        "name": "since",
        "in": "query",
        "description": "first day of the window, YYYY-MM-DD (default: the campaign's start)",
        "schema": {"type": "string", "format": "date"},
    },
    {
        "name": "until",
        "in": "query",
        "description": "last day of the window, YYYY-MM-DD, included (default: now)",
        "schema": {"type": "string", "format": "date"},
    },
]

PATHS = [
    Path(
        "/insights/spread",
        "insights",
        [
            Operation(
                "get",
                "A campaign's spread: participants, recruits, K-factor per channel and "
                "generation, cascades and structural virality",
                {
                    "200": item_response("SpreadSummary"),
                    "404": {
                        "description": "No campaign with that slug, id or uuid",
                        "content": {"application/hal+json": {"schema": ref("Error")}},
                    },
                },
                query=QUERY,
            )
        ],
    )
]

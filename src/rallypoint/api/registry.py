"""The resources this API serves. URLs, the entry point, person links and the OpenAPI document
all follow this list, so they never disagree."""

SECTIONS = ["entry", "people", "tags", "actions", "events", "lists", "messages", "insights"]


def available_sections() -> list[str]:
    return list(SECTIONS)

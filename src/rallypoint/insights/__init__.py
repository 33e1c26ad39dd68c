"""Insights: the social grid seen and steered. See docs/insights.md."""

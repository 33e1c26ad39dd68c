"""Rallypoint: a self-hostable platform for people-powered campaigns."""

__version__ = "0.1.0"

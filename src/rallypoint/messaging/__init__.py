"""Email to the people: mailings to segments, delivered exactly once, with unsubscribes,
bounces and tracking. See docs/email.md."""

"""The world outside: channel adapters, message templates, the outbox and its dispatcher."""

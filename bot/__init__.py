"""arrears-bot: the service core — settings, policy and its pure rules, wiring, scheduler, CLI."""

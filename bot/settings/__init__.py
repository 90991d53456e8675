"""/settings: the owner's account settings (time zone, quiet hours, due-time hours, country)."""

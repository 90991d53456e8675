"""Scheduled alerts: renewal warnings, low balance, closing return windows, subscription
reminders, and who receives them (owner + opted-in admins, quiet hours).

Transition notices (suspended, disconnected, renewed after a top-up, returned, closed) are not
here: the lifecycle writes them with the transition (`core.journal.notices`).
"""

"""Microsoft Teams: channel and chat messages in, a private Adaptive Card warning out.

Every botbuilder import lives in this package, so that moving to Microsoft's
newer Agents SDK touches nothing in the core. The server mounts it through
``discretion.adapters.teams.mount:mount``.
"""

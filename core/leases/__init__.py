"""Named leases: at most one process of the fleet holds each one at a time."""

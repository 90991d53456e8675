"""The morning digest: once a working day, at the account's digest hour, each member who wants
it gets their day in one message (open orders, tasks, yesterday's results; the owner also the
balance's runway and the paid-through date). `compose` is the rule, `job` the batched sender,
`service` the member's /digest switch."""

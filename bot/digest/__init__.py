"""/digest: the morning digest switch; the digest notification's text."""

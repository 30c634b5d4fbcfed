"""How `lodpub serve` runs under gunicorn: a worker that reads requests in its event loop before a
thread takes them (`worker`, with `incoming` and `framing`), and a master that replaces workers only
once their successors are ready (`arbiter`, told by `readiness`)."""

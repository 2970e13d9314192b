"""The analyst web UI: server-rendered page shells, plain ES modules and CSS (no build step)."""

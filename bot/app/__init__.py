"""The running service: wiring, the ASGI server, delivery and the sandbox."""

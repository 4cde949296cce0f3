"""The asyncio REST client (the source of the generated ``pyclientgo.rest._sync``)."""

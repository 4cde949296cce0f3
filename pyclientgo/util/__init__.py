"""Small utilities from client-go's ``util``: :mod:`retry <pyclientgo.util.retry>` and backoffs.

``pyclientgo.util.retry`` offers the asyncio functions; ``pyclientgo.util.sync_retry`` the generated
blocking twins (same names).
"""

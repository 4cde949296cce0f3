"""Small utilities from client-go's and apimachinery's ``util``: :mod:`retry <pyclientgo.util.retry>`,
:mod:`wait <pyclientgo.util.wait>` (periodic loops, polls, exponential backoff) and backoffs.

``pyclientgo.util.retry`` and ``pyclientgo.util.wait`` offer the asyncio functions;
``pyclientgo.util.sync_retry`` and ``pyclientgo.util.sync_wait`` the generated blocking twins (same names).
"""

"""Tools for clients (client-go's ``tools/``): paginated lists; informers live in ``tools.cache``."""

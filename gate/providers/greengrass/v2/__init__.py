"""Greengrass v2 deployments, judged by what their devices did: the reader (the API calls)
and what it needs to roll back and to know the target's history."""

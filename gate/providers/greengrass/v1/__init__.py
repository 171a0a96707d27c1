"""Greengrass v1 group deployments: the reader (the API calls) and what it needs to roll back
and to know the group's history."""

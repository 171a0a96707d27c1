"""The vocabulary every layer shares: what a deployment's status is (model), the errors,
a target's description, and the checks on ids, URLs, durations, timestamps, secrets and text
from an API. Imports nothing else of the gate and no client library."""

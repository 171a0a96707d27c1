"""The one wait engine and what drives it: the engine, its schedule of reads, progress
reporting, and many targets at once (the fleet). Imports the core and the wire, never a
provider or a face."""

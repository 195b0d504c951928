"""The built-in dojo_lite tasks (data files; see README.md here). Installed as ``dojo_lite_tasks``."""

"""`--workers N`: msrun's launcher and supervisor, the cluster the loop talks to, the worker."""

"""Jobs: the engine's work that the dashboard runs in a subprocess, one protocol for all.

    python -m fer_core.job KIND …     KIND: data, check, infer, samples, export

Each job prints typed events (`fer_core.job.events`) as JSON lines on stdout and nothing else
there (MindSpore's chatter goes to stderr); exit status 0 after a result, 2 after an error
the user can fix, 1 after any other failure. The kinds are in `fer_core.job.kinds`.
"""

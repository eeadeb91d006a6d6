"""Run folders: the directory contract (rundir), launching and stopping trainers (launcher),
one trainer per run (runlock). Never imports mindspore: the dashboard reads runs with this."""

"""The scripts under scripts/ run under mpiexec only (test_mpi.py launches them)."""
collect_ignore_glob = ["scripts/*"]
